#!/usr/bin/env python3
"""Reads Google Benchmark JSON (--benchmark_format=json, with repetitions) and
prints each benchmark's median throughput as a ratio to the memcpy baseline of
the same group in the same run. A benchmark BM_<op>_<group> is compared with
BM_memcpy_<group>; a ratio of 0.5 means half of memcpy's speed.

Usage: bench/ratios.py RESULTS.json [RESULTS.json ...]
"""

import json
import statistics
import sys


def medians(path):
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name", b["name"])
        runs.setdefault(name, []).append(b["bytes_per_second"])
    return {name: statistics.median(v) for name, v in runs.items()}


def main(paths):
    for path in paths:
        m = medians(path)
        print(f"| benchmark | median MB/s | ratio to memcpy |")
        print(f"| --- | ---: | ---: |")
        for name, bps in m.items():
            parts = name.split("_", 2)
            if len(parts) < 3:
                continue
            op, group = parts[1], parts[2]
            base = m.get(f"BM_memcpy_{group}")
            ratio = f"{bps / base:.3f}" if base else "-"
            print(f"| {op} {group} | {bps / 1e6:,.0f} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1:])
