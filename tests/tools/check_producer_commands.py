#!/usr/bin/env python3
"""Drives the producer's commands as a user would and checks real outcomes,
never speed:

  produce  `kwire produce` reads key:value lines into a `kwire mock` cluster;
           kcat (Debian's, librdkafka's consumer) reads them back: every line
           once, with its key (or a null key), in send order per key; bad
           usage of `kwire produce` and `kwire mock` (ranges included: a
           --port whose last broker would pass 65535) exits 2 naming the
           option.
  perf     `kwire perf` against its embedded mock and against `kwire mock`:
           the last line is the documented JSON, every record delivered.
  demo     `kwire demo`: the card-payment case ends with nothing lost,
           duplicated, reordered or failed; --payments 0 is a usage error.

Usage: check_producer_commands.py KWIRE {produce|perf|demo}
"""

import json
import os
import re
import shutil
import subprocess
import sys


def start_mock(kwire, *args):
    p = subprocess.Popen([kwire, "mock", "--quiet", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bootstrap = p.stdout.readline().strip()
    assert bootstrap.count(":") >= 1, \
        f"kwire mock's first line: {bootstrap!r} ({p.stderr.read() if p.poll() is not None else ''})"
    return p, bootstrap


def stop_mock(p):
    p.stdin.close()  # the mock exits at the end of its standard input
    assert p.wait(timeout=30) == 0, p.stderr.read()


def need_kcat():
    assert shutil.which("kcat"), "kcat is not installed (Debian package kcat); these checks read topics back with it"


def kcat_read(bootstrap, topic):
    """Every record of the topic as (partition, offset, key or None, value), in (partition, offset) order."""
    need_kcat()
    # %K is the key's length, -1 for a null key; '|' appears in no key or value here.
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-X", "log_level=3",
                          "-f", "%p|%o|%K|%k|%s\\n"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"kcat -C exited {out.returncode}: {out.stderr}"
    records = []
    for line in out.stdout.splitlines():
        p, o, klen, k, v = line.split("|", 4)
        records.append((int(p), int(o), None if int(klen) < 0 else k, v))
    return sorted(records, key=lambda r: (r[0], r[1]))


def run(kwire, *args, stdin="", timeout=600):
    return subprocess.run([kwire, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def last_json(p):
    lines = p.stdout.strip().splitlines()
    assert lines, f"no output; stderr: {p.stderr}"
    return json.loads(lines[-1])


def check_mock_usage(kwire):
    """`kwire mock` refuses bad usage before it binds anything: exit 2, the option named."""
    cases = [
        (["--port", "65535", "--brokers", "3"], "--port", "65537"),  # the last broker's port would wrap
        (["--port", "65534", "--brokers", "3"], "--port", "65536"),
        (["--port", "0"], "--port", "1 to 65535"),
        (["--brokers", "65"], "--brokers", "1 to 64"),
        (["--topic", "t:0"], "--topic", "NAME:PARTITIONS"),
        (["--topic", "t:1:65"], "--topic", "NAME:PARTITIONS"),
        (["--http", "127.0.0.1:70000"], "--http", "HOST:PORT"),
        (["--http-token", "x"], "--http-token", "--http"),
        (["--seed", "-1"], "--seed", "0 to"),
        (["--frobnicate"], "--frobnicate", ""),
    ]
    for args, option, detail in cases:
        p = run(kwire, "mock", *args, timeout=30)
        assert p.returncode == 2 and option in p.stderr and detail in p.stderr, (args, p.returncode, p.stderr)
        assert p.stdout == "", (args, p.stdout)  # no bootstrap list: nothing was started
    p = run(kwire, "no-such-command")
    assert p.returncode == 2 and "unknown command 'no-such-command'" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "mock", "--help")
    assert p.returncode == 0 and "--brokers" in p.stdout and "--http-token" in p.stdout, p


def check_produce(kwire):
    need_kcat()
    check_mock_usage(kwire)
    mock, bootstrap = start_mock(kwire, "--topic", "t:3", "--topic", "pinned:3")
    try:
        # 2,000 keyed lines over 7 keys, then lines without the separator (null keys).
        keyed = [(f"k{i % 7}", f"v{i}") for i in range(2000)]
        unkeyed = [f"plain{i}" for i in range(50)]
        stdin = "".join(f"{k}:{v}\n" for k, v in keyed) + "".join(f"{v}\n" for v in unkeyed)
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "--key-separator", ":",
                "-X", "linger.ms=5", stdin=stdin)
        assert p.returncode == 0, f"kwire produce exited {p.returncode}: {p.stderr}"
        got = kcat_read(bootstrap, "t")
        assert len(got) == len(keyed) + len(unkeyed), f"{len(got)} read back of {len(keyed) + len(unkeyed)}"
        values = [r[3] for r in got]
        assert len(set(values)) == len(values), "a line arrived twice"
        sent = {v: k for k, v in keyed}
        sent.update({v: None for v in unkeyed})
        assert set(values) == set(sent), "kcat read back a different set of lines"
        for _, _, key, value in got:
            assert key == sent[value], f"{value!r} arrived with key {key!r}, sent with {sent[value]!r}"
        by_key, partition_of = {}, {}
        for partition, offset, key, value in got:
            if key is None:
                continue
            by_key.setdefault(key, []).append(int(value[1:]))
            assert partition_of.setdefault(key, partition) == partition, f"key {key} on two partitions"
        assert all(v == sorted(v) for v in by_key.values()), "a key's lines arrived out of send order"
        per_partition = {}
        for partition, offset, _, _ in got:
            per_partition.setdefault(partition, []).append(offset)
        assert all(o == list(range(len(o))) for o in per_partition.values()), "offsets with gaps"

        # --partition P: every line to that partition, in the order of the input.
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "pinned", "--partition", "2",
                stdin="".join(f"line{i}\n" for i in range(300)))
        assert p.returncode == 0, f"kwire produce --partition exited {p.returncode}: {p.stderr}"
        got = kcat_read(bootstrap, "pinned")
        assert [(r[0], r[2], r[3]) for r in got] == [(2, None, f"line{i}") for i in range(300)], got[:3]

        # Bad usage: exit 2, and say what is wrong.
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "-X", "no.such.setting=1", stdin="x\n")
        assert p.returncode == 2 and "no.such.setting" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "-X", "acks=most", stdin="x\n")
        assert p.returncode == 2 and "acks" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--bootstrap", bootstrap, stdin="x\n")
        assert p.returncode == 2 and "--topic" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--topic", "t", stdin="x\n")
        assert p.returncode == 2 and "--bootstrap" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "-X", "linger.ms", stdin="x\n")
        assert p.returncode == 2 and "key=value" in p.stderr, (p.returncode, p.stderr)
        # Numbers are range-checked and named; -X takes one key=value per occurrence.
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "--partition", "-1", stdin="x\n")
        assert p.returncode == 2 and "--partition" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "-X", "linger.ms=5", "acks=1", stdin="x\n")
        assert p.returncode == 2 and "acks=1" in p.stderr, (p.returncode, p.stderr)
        p = run(kwire, "produce", "--bootstrap", bootstrap, "--topic", "t", "--no-such-option", stdin="x\n")
        assert p.returncode == 2 and "--no-such-option" in p.stderr, (p.returncode, p.stderr)
        # The bad runs sent nothing.
        assert len(kcat_read(bootstrap, "t")) == len(keyed) + len(unkeyed), "a refused run still wrote"
    finally:
        stop_mock(mock)
    print(f"kwire produce: {len(keyed) + len(unkeyed)} lines exactly once, in order per key; "
          "--partition; bad usage (produce and mock) exits 2 naming the option")


PERF_KEYS = {"records", "seconds", "records_per_sec", "mb_per_sec", "latency_ms", "delivered", "failed"}


def check_perf_result(p, records):
    assert p.returncode == 0, f"kwire perf exited {p.returncode}: {p.stderr}"
    r = last_json(p)
    assert set(r) == PERF_KEYS, sorted(r)
    assert set(r["latency_ms"]) == {"p50", "p99", "p999", "max"}, r["latency_ms"]
    assert r["records"] == records and r["delivered"] == records and r["failed"] == 0, r
    assert r["seconds"] > 0 and r["records_per_sec"] > 0 and r["mb_per_sec"] > 0, r
    lat = r["latency_ms"]
    assert 0 <= lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    return r


def check_perf(kwire):
    # The embedded mock.
    p = run(kwire, "perf", "--records", "20000", "--record-size", "100", "--no-progress")
    check_perf_result(p, 20000)
    assert p.stderr == "", f"--no-progress still wrote to stderr: {p.stderr!r}"

    # An external cluster: `kwire mock`, then read back what perf wrote.
    mock, bootstrap = start_mock(kwire, "--topic", "perf:4")
    try:
        p = run(kwire, "perf", "--bootstrap", bootstrap, "--topic", "perf", "--records", "20000",
                "--record-size", "100", "--no-progress", "-X", "linger.ms=5")
        check_perf_result(p, 20000)
        got = kcat_read(bootstrap, "perf")
        assert len(got) == 20000, f"{len(got)} records in the topic"
        assert all(key is None and value == "x" * 100 for _, _, key, value in got), "unexpected record contents"
    finally:
        stop_mock(mock)

    # Bad usage.
    p = run(kwire, "perf", "--record-size", "100")
    assert p.returncode == 2 and "--records" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "perf", "--records", "0", "--record-size", "100")
    assert p.returncode == 2 and "--records" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "perf", "--records", "10", "--record-size", "10", "-X", "no.such.setting=1")
    assert p.returncode == 2 and "no.such.setting" in p.stderr, (p.returncode, p.stderr)
    # Range errors name the option and its range; a number is decimal and whole.
    for option, value in (("--records", "4294967297"), ("--records", "1e3"), ("--record-size", "67108865"),
                          ("--partitions", "0"), ("--throughput", "-5"), ("--records", "99999999999999999999")):
        args = {"--records": "10", "--record-size": "10", option: value}
        p = run(kwire, "perf", *[x for kv in args.items() for x in kv], "--no-progress")
        assert p.returncode == 2 and option in p.stderr and "from" in p.stderr, (option, value, p.returncode, p.stderr)
    help = run(kwire, "perf", "--help")
    assert help.returncode == 0 and "--record-size" in help.stdout and help.stderr == "", help
    # The version is the project's, from CMake.
    cmake = open(os.path.join(os.path.dirname(__file__), "..", "..", "CMakeLists.txt")).read()
    project_version = re.search(r"project\(kwire VERSION ([0-9.]+)", cmake).group(1)
    version = run(kwire, "--version")
    assert version.returncode == 0 and version.stdout.strip() == project_version, (version, project_version)
    print("kwire perf: 20,000 records delivered, embedded and against kwire mock (read back by kcat); "
          "bad usage exits 2")


def check_demo(kwire):
    p = run(kwire, "demo", "--payments", "50000", timeout=900)
    assert p.returncode == 0, f"kwire demo exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
    r = last_json(p)
    assert r["payments"] == 50000 and r["acknowledged"] == 50000, r
    assert r["lost"] == 0 and r["duplicated"] == 0 and r["out_of_order"] == 0 and r["failed"] == 0, r
    assert r["ok"] is True, r
    assert "faults fired" in p.stdout, p.stdout

    p = run(kwire, "demo", "--payments", "0")
    assert p.returncode == 2 and "--payments" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "demo", "--payments")
    assert p.returncode == 2 and "--payments" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "demo", "--partitions", "1001")
    assert p.returncode == 2 and "--partitions" in p.stderr and "1 to 1000" in p.stderr, (p.returncode, p.stderr)
    p = run(kwire, "demo", "--seed", "010x")
    assert p.returncode == 2 and "--seed" in p.stderr, (p.returncode, p.stderr)
    print("kwire demo: 50,000 payments acknowledged, none lost, duplicated, reordered or failed; "
          "--payments 0 exits 2")


def main(kwire, which):
    {"produce": check_produce, "perf": check_perf, "demo": check_demo}[which](kwire)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
