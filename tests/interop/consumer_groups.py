#!/usr/bin/env python3
"""Interop: real consumers in consumer groups against `kwire mock`.

- confluent-kafka (librdkafka): an idempotent producer writes through
  injected faults; a consumer subscribes, reads part, commits and closes; a
  new consumer of the same group resumes exactly after the commit, and
  between them every record is read exactly once.
- kafka-python: two consumers of one group split the partitions; when one
  leaves, the other gets them all and reads what is produced next.
- kcat -G: a balanced consumer reads everything.
- A consumer (assigned, no group) waiting at the end of the log gets a new record long before its
  fetch.wait.max.ms (30 s) ends: the append wakes its parked fetch.

Run with Debian's /usr/bin/python3 (its kafka and confluent_kafka modules).
Usage: consumer_groups.py KWIRE
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mock_clients import start_mock, stop_mock  # noqa: E402


def produce(bootstrap, topic, count, key_mod=13):
    from confluent_kafka import Producer
    # A lost acknowledgement costs request.timeout.ms before the retry.
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "request.timeout.ms": 3000, "socket.timeout.ms": 3000,
                  "message.send.max.retries": 1000, "retry.backoff.ms": 20})
    failed = []
    for i in range(count):
        p.produce(topic, key=b"card-%d" % (i % key_mod), value=b"%d" % i,
                  on_delivery=lambda err, msg: err is not None and failed.append(err))
        p.poll(0)
    assert p.flush(60) == 0, "producer did not deliver everything"
    assert not failed, failed[:3]


def confluent_resume(bootstrap):
    """Consume part, commit, close; a new member resumes exactly after the commit."""
    from confluent_kafka import Consumer, TopicPartition
    produce(bootstrap, "cg-payments", 1000)
    conf = {"bootstrap.servers": bootstrap, "group.id": "cg-resume", "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": 6000}
    first = Consumer(conf)
    first.subscribe(["cg-payments"])
    seen_first, deadline = [], time.time() + 60
    while len(seen_first) < 400 and time.time() < deadline:
        m = first.poll(0.5)
        if m is not None and m.error() is None:
            seen_first.append((m.partition(), m.offset(), int(m.value())))
    assert len(seen_first) >= 400, f"first consumer read {len(seen_first)} of 400"
    committed = first.commit(asynchronous=False)
    commit_at = {tp.partition: tp.offset for tp in committed if tp.offset >= 0}
    # What the group has stored is what was committed.
    stored = first.committed([TopicPartition("cg-payments", p) for p in range(4)], timeout=10)
    assert {tp.partition: tp.offset for tp in stored if tp.offset >= 0} == commit_at, (stored, commit_at)
    first.close()
    # Everything the first consumer read is below the commit of its partition.
    for p, o, _ in seen_first:
        assert o < commit_at[p], f"read {p}@{o} beyond the commit {commit_at}"
    read_first = {v for p, o, v in seen_first}

    second = Consumer(conf)
    second.subscribe(["cg-payments"])
    seen_second, deadline = [], time.time() + 60
    while len(read_first) + len(seen_second) < 1000 and time.time() < deadline:
        m = second.poll(0.5)
        if m is not None and m.error() is None:
            seen_second.append((m.partition(), m.offset(), int(m.value())))
    second.close()
    first_offset = {}
    for p, o, _ in seen_second:
        first_offset.setdefault(p, o)
    for p, o in first_offset.items():
        assert o == commit_at.get(p, 0), f"partition {p} resumed at {o}, committed {commit_at.get(p)}"
    read_second = [v for _, _, v in seen_second]
    assert len(read_second) == len(set(read_second)), "second consumer read a record twice"
    assert not (read_first & set(read_second)), "a committed record was read again"
    assert read_first | set(read_second) == set(range(1000)), \
        f"{len(read_first | set(read_second))} of 1000 read"
    return 1000


def kafka_python_rebalance(bootstrap):
    """Two members split the partitions; when one leaves, the other takes them all."""
    from kafka import KafkaConsumer, KafkaProducer
    servers = bootstrap.split(",")
    topic = "kp-group"
    p = KafkaProducer(bootstrap_servers=servers, acks="all")
    for i in range(200):
        p.send(topic, key=b"k%d" % (i % 17), value=b"%d" % i)
    p.flush()

    stop = threading.Event()
    leave = {"b": threading.Event()}
    state = {"a": {"values": [], "assigned": set()}, "b": {"values": [], "assigned": set()}}
    errors = []

    def member(name):
        try:
            c = KafkaConsumer(topic, bootstrap_servers=servers, group_id="kp-rebalance",
                              auto_offset_reset="earliest", enable_auto_commit=True,
                              auto_commit_interval_ms=200, session_timeout_ms=6000,
                              heartbeat_interval_ms=500, max_poll_interval_ms=30000)
            while not stop.is_set() and not (name in leave and leave[name].is_set()):
                for tp, messages in c.poll(timeout_ms=200).items():
                    state[name]["values"].extend(int(m.value) for m in messages)
                state[name]["assigned"] = {tp.partition for tp in c.assignment()}
            c.close()  # LeaveGroup
            state[name]["assigned"] = set()
        except Exception as e:  # noqa: BLE001: reported by the main thread
            errors.append(f"{name}: {e!r}")

    threads = [threading.Thread(target=member, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not errors:
            a, b = state["a"]["assigned"], state["b"]["assigned"]
            if a and b and not (a & b) and (a | b) == {0, 1, 2, 3}:
                break
            time.sleep(0.1)
        a, b = state["a"]["assigned"], state["b"]["assigned"]
        assert not errors, errors
        assert a and b and not (a & b) and (a | b) == {0, 1, 2, 3}, f"split: a {a}, b {b}"
        split = (sorted(a), sorted(b))
        leave["b"].set()
        threads[1].join(timeout=30)
        deadline = time.time() + 60
        while time.time() < deadline and state["a"]["assigned"] != {0, 1, 2, 3}:
            time.sleep(0.1)
        assert state["a"]["assigned"] == {0, 1, 2, 3}, f"after b left, a has {state['a']['assigned']}"
        for i in range(200, 260):
            p.send(topic, key=b"k%d" % (i % 17), value=b"%d" % i)
        p.flush()
        p.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            got = set(state["a"]["values"]) | set(state["b"]["values"])
            if set(range(260)) <= got:
                break
            time.sleep(0.1)
        got = set(state["a"]["values"]) | set(state["b"]["values"])
        assert set(range(260)) <= got, f"{len(got & set(range(260)))} of 260 read"
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors
    return split


def kcat_group(bootstrap):
    lines = [f"k{i % 5}:v{i}" for i in range(300)]
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "kcat-group", "-K:"],
                   input="\n".join(lines) + "\n", text=True, check=True, timeout=60)
    out = subprocess.run(["kcat", "-b", bootstrap, "-G", "kcat-readers", "kcat-group",
                          "-X", "auto.offset.reset=earliest", "-c", "300", "-q", "-f", "%k:%s\\n"],
                         capture_output=True, text=True, check=True, timeout=90)
    got = out.stdout.splitlines()
    assert sorted(got) == sorted(lines), f"kcat -G read {len(got)} of {len(lines)}"
    return len(got)


def woken_consumer(bootstrap):
    """A record produced while the consumer waits arrives long before fetch.wait.max.ms."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
    topic = "cg-wake"
    p = Producer({"bootstrap.servers": bootstrap})
    p.produce(topic, value=b"first")
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "cg-wake",
                  "auto.offset.reset": "earliest", "fetch.wait.max.ms": 30000,
                  "socket.timeout.ms": 60000})
    c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in range(4)])
    deadline = time.time() + 60
    first = None
    while first is None and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            first = m.value()
    assert first == b"first", first
    time.sleep(1.0)  # the consumer's next fetch is parked at the end of the log
    sent = time.time()
    p.produce(topic, value=b"second")
    assert p.flush(30) == 0
    second = None
    while second is None and time.time() < sent + 20:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            second = m.value()
    waited = time.time() - sent
    c.close()
    # Not a timing test: 20 s is two thirds of the fetch's 30 s wait, far
    # beyond any scheduling noise; without the wake-up the record comes at 30 s.
    assert second == b"second", f"no record within 20 s (fetch.wait.max.ms is 30 s): {second!r}"
    return waited


def main(kwire):
    rules = [
        {"api": "Produce", "topic": "cg-payments", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3},
        {"api": "Produce", "topic": "cg-payments", "append_then_drop": True, "nth": 4, "count": 1},
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"faults": rules}, f)
    try:
        p, bootstrap = start_mock(kwire, "--partitions", "4", "--faults", f.name)
        try:
            results = {"confluent-kafka resume after commit": confluent_resume(bootstrap)}
            results["kafka-python split"] = kafka_python_rebalance(bootstrap)
            results["kcat -G"] = kcat_group(bootstrap)
            results["woken after (s)"] = round(woken_consumer(bootstrap), 3)
        finally:
            stop_mock(p)
    finally:
        os.unlink(f.name)
    print("kwire mock consumer groups: " + ", ".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
