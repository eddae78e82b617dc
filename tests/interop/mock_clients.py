#!/usr/bin/env python3
"""Interop: real clients that no one here wrote against `kwire mock` over
loopback. kcat (librdkafka) produces with idempotence and consumes back;
kafka-python produces and consumes; confluent-kafka produces idempotently
and consumes in a group. Every message must come back exactly once. Before
them, a raw socket checks that ApiVersions lists only the served APIs (every API
with --advertise-all-apis) and that an unserved one (EndTxn) closes the
connection either way.

Run with Debian's /usr/bin/python3 (its kafka and confluent_kafka modules).
Usage: mock_clients.py KWIRE
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time


def start_mock(kwire, *args):
    p = subprocess.Popen([kwire, "mock", "--quiet", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bootstrap = p.stdout.readline().strip()
    assert bootstrap.count(",") == 2, f"bootstrap line: {bootstrap!r} ({p.stderr.read() if p.poll() is not None else ''})"
    return p, bootstrap


def stop_mock(p):
    p.stdin.close()  # the mock exits at the end of its standard input
    assert p.wait(timeout=20) == 0, p.stderr.read()


SERVED_API_KEYS = [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 32, 33, 35, 37, 42, 43, 44, 47, 60, 68, 69]


def request(sock, api_key, version, body, correlation_id):
    """Sends one request with a v1 header (client id "interop") and returns the
    response payload, or None when the broker closed the connection."""
    client = b"interop"
    payload = struct.pack(">hhih", api_key, version, correlation_id, len(client)) + client + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = sock.recv(4, socket.MSG_WAITALL)
    if len(size) < 4:
        return None
    return sock.recv(struct.unpack(">i", size)[0], socket.MSG_WAITALL)


def advertised_apis(bootstrap, expected):
    """ApiVersions lists exactly `expected`; an unserved API closes the connection all the same."""
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        reply = request(sock, 18, 0, b"", 1)
        correlation_id, error, count = struct.unpack(">ihi", reply[:10])
        assert (correlation_id, error) == (1, 0), (correlation_id, error)
        keys = [struct.unpack(">hhh", reply[10 + 6 * i:16 + 6 * i])[0] for i in range(count)]
        assert keys == expected, f"ApiVersions advertised {keys}, expected {expected}"
        # EndTxn v0: transactional id "t", producer id 1, epoch 0, commit.
        end_txn = struct.pack(">h", 1) + b"t" + struct.pack(">qh?", 1, 0, True)
        assert request(sock, 26, 0, end_txn, 2) is None, "an unserved API was answered"
    return len(keys)


def advertise_all(kwire):
    """--advertise-all-apis lists every API of `kwire schema`, and serves no more than before."""
    listed = subprocess.run([kwire, "schema"], capture_output=True, text=True, check=True).stdout.splitlines()[1:]
    every_key = sorted(int(line.split()[0]) for line in listed)
    p, bootstrap = start_mock(kwire, "--advertise-all-apis")
    try:
        return advertised_apis(bootstrap, every_key)
    finally:
        stop_mock(p)


def kcat(bootstrap):
    lines = [f"card-{i % 7}:payment-{i}" for i in range(200)]
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "kcat-payments", "-K:",
                    "-X", "enable.idempotence=true", "-X", "compression.codec=lz4"],
                   input="\n".join(lines) + "\n", text=True, check=True, timeout=60)
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "kcat-payments", "-e", "-q",
                          "-f", "%p %o %k:%s\\n"], capture_output=True, text=True, check=True, timeout=60)
    got = [line.split(" ", 2) for line in out.stdout.splitlines()]
    assert sorted(g[2] for g in got) == sorted(lines), "kcat read back a different set"
    # Per key, the order sent is the order stored (one partition per key).
    by_key = {}
    for p, o, kv in sorted(got, key=lambda g: (int(g[0]), int(g[1]))):
        by_key.setdefault(kv.split(":")[0], []).append(int(kv.split("-")[-1]))
    assert all(v == sorted(v) for v in by_key.values()), "per-key order broken"
    return len(got)


def kcat_with_faults(kwire):
    """kcat's idempotent producer while a fault file injects errors and a lost acknowledgement."""
    rules = [
        {"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3},
        {"api": "Produce", "append_then_drop": True, "nth": 5, "count": 1},
        {"api": "Produce", "append_then_error": "REQUEST_TIMED_OUT", "nth": 8, "count": 1},
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"faults": rules}, f)
    try:
        p, bootstrap = start_mock(kwire, "--partitions", "2", "--faults", f.name)
        try:
            lines = [f"card-{i % 5}:payment-{i}" for i in range(3000)]
            subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "faulty", "-K:",
                            "-X", "enable.idempotence=true", "-X", "batch.num.messages=100",
                            "-X", "socket.timeout.ms=3000", "-X", "request.timeout.ms=3000"],
                           input="\n".join(lines) + "\n", text=True, check=True, timeout=120)
            out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "faulty", "-e", "-q",
                                  "-f", "%k:%s\\n"], capture_output=True, text=True, check=True, timeout=60)
        finally:
            stop_mock(p)
    finally:
        os.unlink(f.name)
    got = out.stdout.splitlines()
    assert sorted(got) == sorted(lines), f"{len(got)} read back of {len(lines)}, {len(set(got))} distinct"
    return len(got)


def bad_fault_file(kwire):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write('{"api": "Produce", "eror": "X"}')
    try:
        p = subprocess.run([kwire, "mock", "--faults", f.name], capture_output=True, text=True, timeout=20)
    finally:
        os.unlink(f.name)
    assert p.returncode == 2 and "unknown key 'eror'" in p.stderr, (p.returncode, p.stderr)


def kafka_python(bootstrap):
    from kafka import KafkaConsumer, KafkaProducer
    servers = bootstrap.split(",")
    p = KafkaProducer(bootstrap_servers=servers, acks="all", compression_type="gzip")
    futures = [p.send("kp-payments", key=b"k%d" % (i % 5), value=b"v%d" % i) for i in range(100)]
    p.flush()
    offsets = [f.get(timeout=20) for f in futures]
    p.close()
    c = KafkaConsumer("kp-payments", bootstrap_servers=servers, auto_offset_reset="earliest",
                      consumer_timeout_ms=4000)
    got = sorted(m.value for m in c)
    c.close()
    assert got == sorted(b"v%d" % i for i in range(100)), got[:5]
    return len(offsets)


def confluent(bootstrap):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(300):
        p.produce("ck-payments", key=b"card-%d" % (i % 11), value=b"%d" % i)
    assert p.flush(30) == 0
    # Partitions assigned directly (consumer_groups.py tests subscribe()).
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "kwire-interop",
                  "enable.auto.commit": False})
    c.assign([TopicPartition("ck-payments", p, OFFSET_BEGINNING) for p in range(4)])
    got, deadline = [], time.time() + 30
    while len(got) < 300 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(int(m.value()))
    c.close()
    assert sorted(got) == list(range(300)), f"confluent read {len(got)} of 300"
    return len(got)


def main(kwire):
    p, bootstrap = start_mock(kwire, "--partitions", "4")
    try:
        advertised_apis(bootstrap, SERVED_API_KEYS)
        results = {"kcat": kcat(bootstrap), "kafka-python": kafka_python(bootstrap)}
        results["confluent-kafka"] = confluent(bootstrap)
    finally:
        stop_mock(p)
    results["kcat under a fault file"] = kcat_with_faults(kwire)
    bad_fault_file(kwire)
    assert advertise_all(kwire) > len(SERVED_API_KEYS)
    print("kwire mock interop: " + ", ".join(f"{k} {v} messages exactly once" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
