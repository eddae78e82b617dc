#!/usr/bin/python3
"""Runs the real clients through the recording proxy, one capture at a time.

Called by capture_all.sh (which starts the mock cluster and the proxy):
    clients.py --bootstrap 127.0.0.1:PORT --capture-file F --status-file F
               --out-root tests/data/golden --kcat kcat [--only NAME]...

For every capture it writes the capture name to the proxy's capture file,
runs one client process (bounded by a timeout), waits until the proxy has no
open connection left, then writes <capture>/manifest.json: the client, its
command or configuration, and what was sent (topic, partition, key, value,
headers, codec) or read.  Keys, values and header values are UTF-8 text, null
is JSON null.  Afterwards every produced topic is read back, outside any
capture, with kcat and compared with its manifest.

Needs /usr/bin/python3 (Debian's python3-kafka and python3-confluent-kafka).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

CLIENT_TIMEOUT = 40  # seconds, per client process
ARGS = None


def tool_versions():
    versions = {}
    try:
        import kafka
        versions["kafka-python"] = kafka.__version__
    except ImportError:
        pass
    try:
        import confluent_kafka
        versions["confluent-kafka"] = confluent_kafka.version()[0]
        versions["librdkafka"] = confluent_kafka.libversion()[0]
    except ImportError:
        pass
    out = subprocess.run([ARGS.kcat, "-V"], capture_output=True, text=True).stdout
    versions["kcat"] = next((line.split(" (")[0].replace("Version ", "")
                             for line in out.splitlines() if line.startswith("Version ")),
                            "unknown")
    return versions


def set_capture(name):
    tmp = ARGS.capture_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(name + "\n")
    os.replace(tmp, ARGS.capture_file)


def wait_for_idle(timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(ARGS.status_file) as f:
                if f.read().strip() == "0":
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    print("clients: proxy still has open connections", file=sys.stderr)
    return False


def run_capture(name, body):
    """Records one client run under <out-root>/<name> and writes its manifest."""
    if ARGS.only and name not in ARGS.only:
        return None
    directory = os.path.join(ARGS.out_root, name)
    shutil.rmtree(directory, ignore_errors=True)
    wait_for_idle()
    set_capture(name)
    started = time.monotonic()
    try:
        manifest = body()
    finally:
        wait_for_idle()
        set_capture("-")
    manifest = {"capture": name, **manifest}
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")
    print(f"clients: {name}: {time.monotonic() - started:.1f}s, "
          f"{len(os.listdir(directory)) - 1} frame file(s)")
    return manifest


def message(topic, partition, key, value, headers, codec):
    return {"topic": topic, "partition": partition, "key": key, "value": value,
            "headers": [[k, v] for k, v in headers], "codec": codec}


# ---------------------------------------------------------------- kcat

KCAT_HEADERS = [("trace-id", "abc-123"), ("origin", "kcat")]
# Lines of kcat -P input with -K ':' and -Z: "key:value"; an empty value is
# sent as null (-Z); a line without the delimiter has no key.
KCAT_LINES = [
    ("key-1", "value-1"),
    ("key-2", "compressible " + "abcdefgh" * 24),
    (None, "unkeyed value"),
    ("key-null-value", None),
]


def kcat(*args, stdin=None, check=True):
    command = [ARGS.kcat, "-b", ARGS.bootstrap, *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True,
                            timeout=CLIENT_TIMEOUT)
    if check and result.returncode != 0:
        raise RuntimeError(f"{command}: exit {result.returncode}: {result.stderr}")
    return command, result


def kcat_produce(name, topic, partition, codec, extra_conf=()):
    def body():
        lines = []
        for key, value in KCAT_LINES:
            lines.append((f"{key}:" if key is not None else "") + (value or ""))
        conf = [f"compression.codec={codec}", *extra_conf]
        args = ["-P", "-t", topic, "-p", str(partition), "-K", ":", "-Z"]
        for k, v in KCAT_HEADERS:
            args += ["-H", f"{k}={v}"]
        for c in conf:
            args += ["-X", c]
        command, _ = kcat(*args, stdin="\n".join(lines) + "\n")
        return {
            "client": "kcat", "role": "producer", "command": command[:1] + command[3:],
            "config": conf,
            "messages": [message(topic, partition, k, v, KCAT_HEADERS, codec)
                         for k, v in KCAT_LINES],
        }
    return run_capture(name, body)


def kcat_read_all(topic, extra=()):
    """Reads a whole topic (outside any capture) as kcat -J envelopes."""
    _, result = kcat("-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q", *extra)
    records = []
    for line in result.stdout.splitlines():
        if line.strip():
            records.append(json.loads(line))
    return records


def envelope_to_message(env):
    headers = env.get("headers") or []
    return {"topic": env["topic"], "partition": env["partition"], "offset": env["offset"],
            "key": env.get("key"), "value": env.get("payload"),
            "headers": [[headers[i], headers[i + 1]] for i in range(0, len(headers), 2)]}


# ---------------------------------------------------------------- kafka-python

KP_MESSAGES = [
    ("kp-key-1", "kp value 1", [("trace-id", "kp-1")]),
    ("kp-key-2", "compressible " + "0123456789" * 20, [("a", "1"), ("b", "")]),
    (None, "kp unkeyed", []),
    ("kp-key-null", None, [("null-value", "yes")]),
]


def enc(text):
    return None if text is None else text.encode()


def kp_produce(name, topic, codec, api_version, with_headers=True, acks=1,
               known_issue=None, stored=True):
    def body():
        from kafka import KafkaProducer
        config = {"bootstrap_servers": ARGS.bootstrap, "compression_type": codec,
                  "acks": acks, "linger_ms": 50, "client_id": "kwire-golden-kafka-python"}
        if api_version is not None:
            config["api_version"] = api_version
        producer = KafkaProducer(**config)
        sent = []
        futures = []
        for key, value, headers in KP_MESSAGES:
            headers = headers if with_headers else []
            futures.append(producer.send(topic, key=enc(key), value=enc(value),
                                         headers=[(k, enc(v)) for k, v in headers]))
            sent.append((key, value, headers))
        producer.flush(timeout=20)
        messages = []
        for (key, value, headers), future in zip(sent, futures):
            try:
                metadata = future.get(timeout=20)
                partition, offset = metadata.partition, metadata.offset
                delivery = "ok"
            except Exception as error:  # see known_issues in the manifest
                partition, offset = None, None
                delivery = f"{type(error).__name__}: {error}"
            m = message(topic, partition, key, value, headers, codec or "none")
            m["offset"] = offset if acks != 0 else None
            m["delivery"] = delivery
            messages.append(m)
        used_version = producer.config["api_version"]
        producer.close(timeout=10)
        config = {k: v for k, v in config.items() if k != "bootstrap_servers"}
        config["api_version"] = list(api_version) if api_version else None
        manifest = {"client": "kafka-python", "role": "producer", "config": config,
                    "api_version_in_effect": list(used_version), "messages": messages}
        if known_issue:
            manifest["known_issues"] = [known_issue]
        # False when the broker refused the records: read-back expects none.
        manifest["stored"] = stored
        return manifest
    return run_capture(name, body)


def kp_consume(name, topic, group, expected):
    def body():
        from kafka import KafkaConsumer
        config = {"bootstrap_servers": ARGS.bootstrap, "group_id": group,
                  "auto_offset_reset": "earliest", "consumer_timeout_ms": 3000,
                  "client_id": "kwire-golden-kafka-python", "enable_auto_commit": False}
        consumer = KafkaConsumer(topic, **config)
        read = []
        for record in consumer:
            read.append({"topic": record.topic, "partition": record.partition,
                         "offset": record.offset,
                         "key": record.key.decode() if record.key is not None else None,
                         "value": record.value.decode() if record.value is not None else None,
                         "headers": [[k, v.decode() if v is not None else None]
                                     for k, v in record.headers]})
            if len(read) >= expected:
                break
        consumer.commit()
        consumer.close()
        config = {k: v for k, v in config.items() if k != "bootstrap_servers"}
        return {"client": "kafka-python", "role": "consumer", "config": config,
                "read": read}
    return run_capture(name, body)


def kp_admin(name):
    def body():
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        admin = KafkaAdminClient(bootstrap_servers=ARGS.bootstrap,
                                 client_id="kwire-golden-kafka-python")
        outcome = {"client": "kafka-python", "role": "admin",
                   "attempted": "create_topics([NewTopic('kp-admin-created', 2, 1)])"}
        try:
            admin.create_topics([NewTopic("kp-admin-created", 2, 1)])
            outcome["result"] = "created"
        except Exception as error:  # the mock does not implement CreateTopics
            outcome["result"] = f"{type(error).__name__}: {error}"
        outcome["topics_from_metadata"] = sorted(admin.list_topics())
        admin.close()
        return outcome
    return run_capture(name, body)


# ---------------------------------------------------------------- confluent-kafka

CK_MESSAGES = [
    ("ck-key-1", "ck value 1", [("trace-id", "ck-1")]),
    ("ck-key-2", "compressible " + "xyz" * 60, [("h", "1"), ("h", "2")]),
    (None, "ck unkeyed", []),
    ("ck-key-null", None, []),
]


def ck_produce(name, topic, conf_extra, transactional=False):
    def body():
        from confluent_kafka import Producer
        conf = {"bootstrap.servers": ARGS.bootstrap, "client.id": "kwire-golden-confluent",
                "linger.ms": 50, **conf_extra}
        producer = Producer(conf)
        reports = []
        if transactional:
            producer.init_transactions(20)
            producer.begin_transaction()
        for i, (key, value, headers) in enumerate(CK_MESSAGES):
            producer.produce(topic, key=enc(key), value=enc(value), partition=i % 2,
                             headers=[(k, enc(v)) for k, v in headers],
                             on_delivery=lambda err, msg: reports.append((err, msg)))
        if transactional:
            producer.commit_transaction(20)
        producer.flush(20)
        codec = conf.get("compression.codec", "none")
        messages = []
        for i, (key, value, headers) in enumerate(CK_MESSAGES):
            err, msg = next(r for r in reports
                            if (r[1].key() or b"") == (enc(key) or b"")
                            and r[1].value() == enc(value))
            if err is not None:
                raise RuntimeError(f"delivery failed: {err}")
            m = message(topic, msg.partition(), key, value, headers, codec)
            m["offset"] = msg.offset()
            messages.append(m)
        del conf["bootstrap.servers"]
        return {"client": "confluent-kafka", "role": "producer", "config": conf,
                "transactional": transactional, "messages": messages}
    return run_capture(name, body)


def ck_consume(name, topic, group, expected):
    def body():
        from confluent_kafka import Consumer
        conf = {"bootstrap.servers": ARGS.bootstrap, "group.id": group,
                "client.id": "kwire-golden-confluent", "auto.offset.reset": "earliest",
                "enable.auto.commit": False}
        consumer = Consumer(conf)
        consumer.subscribe([topic])
        read = []
        deadline = time.monotonic() + 25
        while len(read) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            read.append({"topic": msg.topic(), "partition": msg.partition(),
                         "offset": msg.offset(),
                         "key": msg.key().decode() if msg.key() is not None else None,
                         "value": msg.value().decode() if msg.value() is not None else None,
                         "headers": [[k, v.decode() if v is not None else None]
                                     for k, v in (msg.headers() or [])]})
        consumer.commit(asynchronous=False)
        consumer.close()
        del conf["bootstrap.servers"]
        return {"client": "confluent-kafka", "role": "consumer", "config": conf,
                "read": read}
    return run_capture(name, body)


# ---------------------------------------------------------------- checks

def comparable(m, with_partition):
    partition = m["partition"] if with_partition else None
    return json.dumps([m["topic"], partition, m["key"], m["value"], m["headers"]])


def verify_topic(manifests, topic):
    """Reads a topic back with kcat and compares it with the manifests that wrote it.

    Partitions are compared unless a manifest does not know them (a delivery
    report that never arrived)."""
    sent = [m for man in manifests if man and man.get("stored", True)
            for m in man.get("messages", []) if m["topic"] == topic]
    with_partition = all(m["partition"] is not None for m in sent)
    expected = sorted(comparable(m, with_partition) for m in sent)
    got = sorted(comparable(envelope_to_message(e), with_partition)
                 for e in kcat_read_all(topic))
    if expected != got:
        print(f"clients: read-back of {topic} differs from manifest:\n"
              f"  expected {expected}\n  got      {got}", file=sys.stderr)
        return False
    return True


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--capture-file", required=True)
    parser.add_argument("--status-file", required=True)
    parser.add_argument("--out-root", required=True)
    parser.add_argument("--kcat", default="kcat")
    parser.add_argument("--only", action="append", default=[])
    ARGS = parser.parse_args()

    versions = tool_versions()
    produced = []

    # librdkafka through kcat: metadata, every codec, acks variants, idempotence,
    # transactions, then a simple (group-less) and a balanced consumer.
    run_capture("kcat-metadata", lambda: {
        "client": "kcat", "role": "metadata",
        "command": kcat("-L")[0][:1] + ["-L"], "messages": []})
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        produced.append(kcat_produce(f"kcat-produce-{codec}", f"kcat-{codec}", 0, codec))
    produced.append(kcat_produce("kcat-produce-acks0", "kcat-acks", 1, "none",
                                 ["acks=0"]))
    produced.append(kcat_produce("kcat-produce-acks1", "kcat-acks", 0, "none",
                                 ["acks=1"]))
    produced.append(kcat_produce("kcat-produce-idempotent", "kcat-idempotent", 2, "lz4",
                                 ["enable.idempotence=true"]))
    produced.append(kcat_produce("kcat-produce-transactional", "kcat-transactional", 0,
                                 "none", ["transactional.id=kwire-golden-txn"]))

    def kcat_consume_simple():
        command, result = kcat("-C", "-t", "kcat-gzip", "-o", "beginning", "-e", "-J",
                               "-q", "-c", str(len(KCAT_LINES)))
        read = [envelope_to_message(json.loads(l)) for l in result.stdout.splitlines() if l]
        return {"client": "kcat", "role": "consumer", "command": command[:1] + command[3:],
                "read": read}
    run_capture("kcat-consume-simple", kcat_consume_simple)

    def kcat_consume_group():
        command, result = kcat("-G", "kwire-golden-kcat", "-X", "auto.offset.reset=earliest",
                               "-e", "-J", "-q", "-c", str(len(KCAT_LINES)), "kcat-zstd")
        read = [envelope_to_message(json.loads(l)) for l in result.stdout.splitlines() if l]
        return {"client": "kcat", "role": "consumer", "command": command[:1] + command[3:],
                "read": read}
    run_capture("kcat-consume-group", kcat_consume_group)

    # kafka-python: its own protocol code, older API versions when told to.
    # python-snappy, lz4 and zstandard are not installed, so only none and gzip.
    produced.append(kp_produce("kafka-python-produce-auto-none", "kp-none", None, None))
    produced.append(kp_produce("kafka-python-produce-auto-gzip", "kp-gzip", "gzip", None,
                               acks="all"))
    produced.append(kp_produce("kafka-python-produce-0.11-none", "kp-v3", None, (0, 11, 0)))
    produced.append(kp_produce(
        "kafka-python-produce-1.1-gzip", "kp-v5", "gzip", (1, 1, 0),
        known_issue="librdkafka 2.0.2's mock answers Produce v5 without LogStartOffset "
                    "(int64, versions 5+), so kafka-python fails to decode the response "
                    "(KafkaProtocolError) and reports no partition or offset; the records "
                    "were appended (checked by read-back). The responses in this capture "
                    "are 8 bytes short per partition: do not expect them to decode as v5."))
    # api_version 0.10 makes kafka-python send Produce v2 with message format
    # v1 (magic 1, no headers); the mock refuses it, which is a vector too.
    magic1_issue = ("librdkafka 2.0.2's mock accepts only record batches (magic 2): it "
                    "answers these magic-1 message sets with error 35 "
                    "UNSUPPORTED_VERSION and stores nothing.")
    produced.append(kp_produce("kafka-python-produce-0.10-magic1", "kp-magic1", None,
                               (0, 10, 1), with_headers=False, known_issue=magic1_issue,
                               stored=False))
    produced.append(kp_produce("kafka-python-produce-0.10-magic1-gzip", "kp-magic1-gzip",
                               "gzip", (0, 10, 1), with_headers=False,
                               known_issue=magic1_issue, stored=False))
    kp_admin("kafka-python-admin")
    kp_consume("kafka-python-consume-group", "kp-gzip", "kwire-golden-kafka-python",
               len(KP_MESSAGES))

    # confluent-kafka: librdkafka again, but per-message headers and partitions.
    produced.append(ck_produce("confluent-produce-snappy", "ck-snappy",
                               {"compression.codec": "snappy", "partitioner": "murmur2"}))
    produced.append(ck_produce("confluent-produce-transactional-zstd", "ck-txn",
                               {"compression.codec": "zstd",
                                "transactional.id": "kwire-golden-ck-txn"},
                               transactional=True))
    ck_consume("confluent-consume-group", "ck-txn", "kwire-golden-confluent",
               len(CK_MESSAGES))

    ok = True
    topics = sorted({m["topic"] for man in produced if man for m in man["messages"]})
    for topic in topics:
        ok = verify_topic(produced, topic) and ok
    with open(os.path.join(ARGS.out_root, "versions.json"), "w") as f:
        json.dump(versions, f, indent=2)
        f.write("\n")
    print(f"clients: read-back of {len(topics)} topic(s): {'ok' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
