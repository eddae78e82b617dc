#!/usr/bin/env python3
"""Interop: the admin calls test setups make, from confluent-kafka's
AdminClient (librdkafka) and kafka-python's KafkaAdminClient, against
`kwire mock`: create topics with configs, describe them (topic and broker),
alter them, refuse bad values with Kafka's messages, create partitions and
produce to the new ones. Each call must answer within seconds, not hang
until its timeout. (Debian's confluent-kafka 1.7 and kafka-python 2.0.2
have no IncrementalAlterConfigs nor DeleteRecords: DeleteRecords is sent
here as a hand-encoded v0 request, then kafka-python's consumer reading
below the new start must get OFFSET_OUT_OF_RANGE.)

Run with Debian's /usr/bin/python3.
Usage: admin_configs.py KWIRE
"""

import socket
import struct
import subprocess
import sys
import time

TIMEOUT = 10  # seconds; an unserved API would hang until the client's own timeout


def start_mock(kwire, *args):
    p = subprocess.Popen([kwire, "mock", "--quiet", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bootstrap = p.stdout.readline().strip()
    assert bootstrap.count(",") == 2, \
        f"bootstrap line: {bootstrap!r} ({p.stderr.read() if p.poll() is not None else ''})"
    return p, bootstrap


def stop_mock(p):
    p.stdin.close()  # the mock exits at the end of its standard input
    try:
        assert p.wait(timeout=20) == 0, p.stderr.read()
    except subprocess.TimeoutExpired:
        p.kill()  # this process only, by its id
        raise


def result_of(future):
    start = time.monotonic()
    value = future.result(timeout=TIMEOUT)
    assert time.monotonic() - start < TIMEOUT
    return value


def confluent(bootstrap):
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic("orders", 1, 3, config={"retention.ms": "3600000",
                                                                "cleanup.policy": "compact"})],
                             request_timeout=TIMEOUT)
    result_of(fs["orders"])

    topic = ConfigResource(ConfigResource.Type.TOPIC, "orders")
    configs = result_of(admin.describe_configs([topic], request_timeout=TIMEOUT)[topic])
    assert configs["retention.ms"].value == "3600000", configs["retention.ms"]
    assert configs["retention.ms"].source == 1  # DYNAMIC_TOPIC_CONFIG
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.bytes"].value == "1073741824"
    assert configs["segment.bytes"].is_default
    assert len(configs) >= 25, sorted(configs)

    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    admin_one = AdminClient({"bootstrap.servers": bootstrap.split(",")[0]})
    broker_configs = result_of(admin_one.describe_configs([broker], request_timeout=TIMEOUT)[broker])
    assert broker_configs["message.max.bytes"].value == "1048588"

    # AlterConfigs replaces the overrides: retention.ms goes back to its default.
    altered = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"segment.ms": "60000"})
    result_of(admin.alter_configs([altered], request_timeout=TIMEOUT)[altered])
    configs = result_of(admin.describe_configs([topic], request_timeout=TIMEOUT)[topic])
    assert configs["segment.ms"].value == "60000"
    assert configs["retention.ms"].value == "604800000" and configs["retention.ms"].is_default

    bad = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"retention.ms": "soon"})
    try:
        result_of(admin.alter_configs([bad], request_timeout=TIMEOUT)[bad])
        raise AssertionError("a bad value was accepted")
    except KafkaException as e:
        assert e.args[0].code() == 40, e  # INVALID_CONFIG
        assert "Invalid value soon for configuration retention.ms" in str(e), e

    missing = ConfigResource(ConfigResource.Type.TOPIC, "nope")
    try:
        result_of(admin.describe_configs([missing], request_timeout=TIMEOUT)[missing])
        raise AssertionError("an unknown topic was described")
    except KafkaException as e:
        assert e.args[0].code() == 3, e  # UNKNOWN_TOPIC_OR_PARTITION

    result_of(admin.create_partitions([NewPartitions("orders", 3)], request_timeout=TIMEOUT)["orders"])
    try:
        result_of(admin.create_partitions([NewPartitions("orders", 2)],
                                          request_timeout=TIMEOUT)["orders"])
        raise AssertionError("shrinking was accepted")
    except KafkaException as e:
        assert e.args[0].code() == 37, e  # INVALID_PARTITIONS

    p = Producer({"bootstrap.servers": bootstrap, "topic.metadata.refresh.interval.ms": 100})
    delivered = []
    for partition in (1, 2):
        p.produce("orders", b"v", partition=partition,
                  on_delivery=lambda err, msg: delivered.append((err, msg.partition())))
    assert p.flush(TIMEOUT) == 0
    assert sorted(d[1] for d in delivered if d[0] is None) == [1, 2], delivered
    return "topics, configs, partitions"


def kafka_python(bootstrap):
    from kafka import KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT * 1000)
    r = admin.create_topics([NewTopic("events", 1, 3, topic_configs={"max.message.bytes": "2000"})])
    assert all(e[1] == 0 for e in r.topic_errors), r
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "events")],
                                       include_synonyms=True)
    entries = {e[0]: e for e in described[0].resources[0][4]}
    assert entries["max.message.bytes"][1] == "2000", entries["max.message.bytes"]
    r = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "events",
                                            configs={"max.message.bytes": "not-a-number"})])
    assert r.resources[0][0] == 40, r  # INVALID_CONFIG
    r = admin.create_partitions({"events": NewPartitions(2)})
    assert all(e[1] == 0 for e in r.topic_errors), r
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=TIMEOUT * 1000)
    meta = producer.send("events", b"x", partition=1).get(timeout=TIMEOUT)
    assert meta.partition == 1
    # max.message.bytes 2000 refuses a larger batch.
    try:
        producer.send("events", b"y" * 3000, partition=0).get(timeout=TIMEOUT)
        raise AssertionError("a batch above max.message.bytes was accepted")
    except Exception as e:  # kafka.errors.MessageSizeTooLargeError
        assert "MessageSizeTooLarge" in type(e).__name__, repr(e)
    producer.close()
    admin.close()
    return "topics, configs, partitions, max.message.bytes"


def delete_records_v0(address, topic, partition, offset):
    """(low watermark, error code) of a DeleteRecords v0 request sent to `address`."""
    name = topic.encode()
    body = (struct.pack(">ih", 1, len(name)) + name + struct.pack(">iiqi", 1, partition, offset, 30000))
    client = b"interop"
    payload = struct.pack(">hhih", 21, 0, 7, len(client)) + client + body
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", sock.recv(4, socket.MSG_WAITALL))[0]
        answer = sock.recv(size, socket.MSG_WAITALL)
    # correlation id, throttle, [topic name, [partition, low watermark, error]]
    correlation, _, topics, name_len = struct.unpack(">iiih", answer[:14])
    assert correlation == 7 and topics == 1
    rest = answer[14 + name_len:]
    count, got_partition, low, error = struct.unpack(">iiqh", rest[:18])
    assert count == 1 and got_partition == partition
    return low, error


def delete_then_consume(bootstrap):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.errors import OffsetOutOfRangeError
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=TIMEOUT * 1000)
    for i in range(5):
        producer.send("trimmed", b"v%d" % i, partition=0).get(timeout=TIMEOUT)
    leader = producer._metadata.leader_for_partition(TopicPartition("trimmed", 0))
    broker = producer._metadata.broker_metadata(leader)
    producer.close()
    address = f"{broker.host}:{broker.port}"
    assert delete_records_v0(address, "trimmed", 0, 3) == (3, 0)
    assert delete_records_v0(address, "trimmed", 0, 99)[1] == 1  # OFFSET_OUT_OF_RANGE
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="none",
                             enable_auto_commit=False, consumer_timeout_ms=TIMEOUT * 1000)
    tp = TopicPartition("trimmed", 0)
    consumer.assign([tp])
    assert consumer.beginning_offsets([tp])[tp] == 3
    consumer.seek(tp, 1)
    try:
        consumer.poll(timeout_ms=TIMEOUT * 1000)
        raise AssertionError("a fetch below the log start was answered")
    except OffsetOutOfRangeError:
        pass
    consumer.seek(tp, 3)
    records = consumer.poll(timeout_ms=TIMEOUT * 1000).get(tp, [])
    assert [r.value for r in records][:2] == [b"v3", b"v4"], records
    consumer.close()
    return "delete records, consume below the start"


def main(kwire):
    p, bootstrap = start_mock(kwire)
    try:
        results = {"confluent-kafka": confluent(bootstrap), "kafka-python": kafka_python(bootstrap)}
        results["kafka-python consumer"] = delete_then_consume(bootstrap)
    finally:
        stop_mock(p)
    print("kwire mock admin interop: " + ", ".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
