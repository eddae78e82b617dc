#!/usr/bin/env python3
"""kwire's producer against librdkafka's, alternated, against one `kwire mock`.

Usage: bench/producer_compare.py BUILD_DIR [--runs N] [--records N] [--record-size S]
                                 [--partitions P] [--throughput R] [-X key=value]...

Starts `BUILD_DIR/tools/kwire mock` (3 brokers, topic kwire-perf with P
partitions), then runs `kwire perf --bootstrap ...` and
`BUILD_DIR/bench/rdkafka_perf --bootstrap ...` one after the other, N times
each, alternating which goes first. With --throughput both offer at most R
records a second (without it, as fast as each producer takes them). Both get acks=all, enable.idempotence=true
and linger.ms=5 plus any -X settings (names both producers accept). Prints
each run, a table of medians and, as the last line, one JSON object with the
medians and the ratios kwire/librdkafka.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--record-size", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--throughput", type=int, default=0)
    ap.add_argument("-X", action="append", default=[], dest="settings")
    args = ap.parse_args()

    kwire = f"{args.build_dir}/tools/kwire"
    rdkafka = f"{args.build_dir}/bench/rdkafka_perf"
    topic = "kwire-perf"
    mock = subprocess.Popen([kwire, "mock", "--brokers", "3", "--topic", f"{topic}:{args.partitions}", "--quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        bootstrap = mock.stdout.readline().strip()
        settings = ["acks=all", "enable.idempotence=true", "linger.ms=5"] + args.settings
        common = ["--bootstrap", bootstrap, "--topic", topic, "--records", str(args.records),
                  "--record-size", str(args.record_size)]
        if args.throughput:
            common += ["--throughput", str(args.throughput)]
        for s in settings:
            common += ["-X", s]
        commands = {
            "kwire": [kwire, "perf", "--no-progress"] + common,
            "librdkafka": [rdkafka] + common,
        }
        results = {"kwire": [], "librdkafka": []}
        for i in range(args.runs):
            order = ["kwire", "librdkafka"] if i % 2 == 0 else ["librdkafka", "kwire"]
            for name in order:
                r = run(commands[name])
                results[name].append(r)
                print(f"run {i + 1} {name:10} {r['records_per_sec']:>12.0f} records/s  p50 "
                      f"{r['latency_ms']['p50']:8.2f} ms  p99 {r['latency_ms']['p99']:8.2f} ms  "
                      f"failed {r['failed']}", flush=True)
    finally:
        mock.stdin.close()
        mock.wait(timeout=30)

    med = {}
    for name, rs in results.items():
        med[name] = {
            "records_per_sec": statistics.median(r["records_per_sec"] for r in rs),
            "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in rs),
            "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in rs),
            "failed": sum(r["failed"] for r in rs),
        }
    offered = f", offered {args.throughput} records/s" if args.throughput else ""
    print(f"\nmedians of {args.runs} runs, {args.records} records of {args.record_size} bytes, "
          f"{' '.join(settings)}{offered}")
    print("| producer | records/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, m in med.items():
        print(f"| {name} | {m['records_per_sec']:.0f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} |")
    ratio = med["kwire"]["records_per_sec"] / med["librdkafka"]["records_per_sec"]
    print(f"rate ratio kwire/librdkafka: {ratio:.2f}")
    print(json.dumps({"runs": args.runs, "records": args.records, "record_size": args.record_size,
                      "throughput": args.throughput or None,
                      "settings": settings, "medians": med, "rate_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
