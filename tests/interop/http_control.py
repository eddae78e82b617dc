#!/usr/bin/env python3
"""Interop: the HTTP control API of `kwire mock`, driven with urllib only,
while confluent-kafka's idempotent producer (librdkafka) sends to the
cluster. Errors are injected and the leader moved through the API in the
middle of the stream; the records read back through the API must hold every
message exactly once, in order, with one producer id and consecutive
sequences. Then the API's errors (a bad fault rule in the same words as
`kwire mock --faults` gives), the token and POST /reset.

Run with Debian's /usr/bin/python3 (its confluent_kafka module).
Usage: http_control.py KWIRE
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request


def start_mock(kwire, *args):
    p = subprocess.Popen([kwire, "mock", "--quiet", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bootstrap = p.stdout.readline().strip()
    address = p.stdout.readline().strip()
    assert bootstrap.count(",") == 2 and address.startswith("127.0.0.1:"), \
        f"first lines: {bootstrap!r} {address!r} ({p.stderr.read() if p.poll() is not None else ''})"
    return p, bootstrap, "http://" + address


def stop_mock(p):
    p.stdin.close()  # the mock exits at the end of its standard input
    assert p.wait(timeout=20) == 0, p.stderr.read()


def call(base, method, path, body=None, token=None):
    """(status, JSON answer) of one request; errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def ok(base, method, path, body=None, expect=200):
    status, answer = call(base, method, path, body)
    assert status == expect, f"{method} {path}: {status} {answer}"
    return answer


def read_all(base, topic, partition):
    records, offset = [], 0
    while True:
        page = ok(base, "GET", f"/topics/{topic}/partitions/{partition}/records?offset={offset}&limit=500")
        records += page["records"]
        if not page["records"]:
            return records
        offset = page["next_offset"]


def produce_through_faults(base, bootstrap, count=3000):
    from confluent_kafka import Producer
    leader_before = ok(base, "GET", "/topics/payments/partitions/0")
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "batch.num.messages": 50, "socket.timeout.ms": 3000, "request.timeout.ms": 3000,
                  "retry.backoff.ms": 50})
    failures = []

    def report(err, msg):
        if err is not None:
            failures.append(str(err))

    steps = {
        500: lambda: ok(base, "POST", "/faults",
                        {"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3}, expect=201),
        1200: lambda: ok(base, "PUT", "/topics/payments/partitions/0/leader",
                         {"broker": leader_before["leader"] % 3 + 1}),
        1800: lambda: ok(base, "POST", "/faults",
                         {"api": "Produce", "append_then_error": "REQUEST_TIMED_OUT", "count": 1}, expect=201),
        2400: lambda: ok(base, "POST", "/faults",
                         {"api": "Produce", "topic": "payments", "append_then_drop": True, "count": 1}, expect=201),
    }
    for i in range(count):
        p.produce("payments", key=b"card-%d" % (i % 7), value=b"%d" % i, on_delivery=report)
        if i in steps:
            p.flush(30)  # the earlier messages are acknowledged; the next ones meet the change
            steps[i]()
        p.poll(0)
    assert p.flush(60) == 0, "messages left unsent"
    assert not failures, f"{len(failures)} delivery failures, first: {failures[0]}"

    # Every rule fired as often as it was told.
    faults = ok(base, "GET", "/faults")["faults"]
    assert [f["fired"] for f in faults] == [3, 1, 1], faults
    moved = ok(base, "GET", "/topics/payments/partitions/0")
    assert moved["leader"] == leader_before["leader"] % 3 + 1 and moved["leader_epoch"] == leader_before["leader_epoch"] + 1, moved

    # Exactly once, in order: values 0..count-1, one producer, consecutive sequences.
    records = read_all(base, "payments", 0)
    values = [int(r["value"]) for r in records]
    assert values == list(range(count)), f"{len(values)} records read back, {len(set(values))} distinct"
    assert [r["offset"] for r in records] == list(range(count))
    assert len({r["producer_id"] for r in records}) == 1 and records[0]["producer_id"] >= 0
    assert [r["sequence"] for r in records] == list(range(count))
    assert records[0]["key"] == "card-0" and records[0]["headers"] == []

    produces = ok(base, "GET", "/requests?api=Produce&topic=payments&limit=10000")["requests"]
    errors = [e for e in produces if any(f["kind"] == "error" for f in e["faults"])]
    assert len(errors) == 3, f"{len(errors)} Produce requests answered by the error rule"
    return count


def api_errors(base):
    cases = [
        ("GET", "/topics/nope", None, 404, "no topic 'nope'"),
        ("PUT", "/brokers/42", {"up": False}, 404, "no broker with id 42"),
        ("DELETE", "/faults/999", None, 404, "no fault rule with id 999"),
        ("POST", "/faults", {"api": "Produce", "eror": "X"}, 400, "rule 0: unknown key 'eror'"),
        ("PUT", "/topics/payments/partitions/0/leader", {"brokr": 1}, 400, "unknown key 'brokr' (expected broker)"),
        ("POST", "/topics", {"name": "payments"}, 409, "topic 'payments' already exists"),
    ]
    for method, path, body, status, message in cases:
        got, answer = call(base, method, path, body)
        assert (got, answer.get("error")) == (status, message), f"{method} {path}: {got} {answer}"
    # A body that is not JSON.
    req = urllib.request.Request(base + "/topics", data=b"{oops", method="POST")
    try:
        urllib.request.urlopen(req, timeout=20)
        raise AssertionError("a malformed body was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and json.load(e)["error"].startswith("body is not JSON"), e.code


def reset(base):
    ok(base, "POST", "/topics", {"name": "scratch", "partitions": 2}, expect=201)
    ok(base, "PUT", "/brokers/2", {"latency_ms": 20})
    ok(base, "POST", "/reset")
    state = ok(base, "GET", "/cluster")
    assert [t["name"] for t in state["topics"]] == ["payments"], state["topics"]
    assert all(b["up"] and b["latency_ms"] == 0 for b in state["brokers"]), state["brokers"]
    assert state["topics"][0]["partitions"][0]["high_watermark"] == 0
    assert ok(base, "GET", "/faults")["faults"] == []
    assert ok(base, "GET", "/requests")["requests"] == []


def token(kwire):
    p, _, base = start_mock(kwire, "--http", "127.0.0.1:0", "--http-token", "t0ken")
    try:
        status, answer = call(base, "GET", "/cluster")
        assert status == 401 and "bearer token" in answer["error"], (status, answer)
        assert call(base, "GET", "/cluster", token="wrong")[0] == 401
        assert call(base, "GET", "/cluster", token="t0ken")[0] == 200
    finally:
        stop_mock(p)


def faults_file(kwire, base):
    """`kwire mock --faults FILE` and POST /faults read rules with the same reader: same rule, same words."""
    import os
    import tempfile
    bad = {"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 0}
    status, answer = call(base, "POST", "/faults", bad)
    assert status == 400, (status, answer)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bad, f)
    try:
        p = subprocess.run([kwire, "mock", "--faults", f.name], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=20)
    finally:
        os.unlink(f.name)
    assert p.returncode == 2 and answer["error"] in p.stderr, (p.returncode, p.stderr, answer)


def main(kwire):
    started = time.time()
    p, bootstrap, base = start_mock(kwire, "--topic", "payments:1", "--http", "127.0.0.1:0")
    try:
        n = produce_through_faults(base, bootstrap)
        api_errors(base)
        faults_file(kwire, base)
        reset(base)
    finally:
        stop_mock(p)
    token(kwire)
    print(f"kwire mock HTTP control: {n} messages exactly once and in order through injected errors, "
          f"a leader move and a lost acknowledgement; API errors, --faults errors, token and reset checked "
          f"({time.time() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
