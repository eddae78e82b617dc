#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_frame (responses), fuzz_cluster,
fuzz_producer and fuzz_schedule: from the golden captures
(tests/data/golden) where the target reads frames, otherwise generated from a
fixed random seed, so a rerun writes the same files.

Usage (from the repository root): fuzz/make_corpus.py
fuzz_message's seeds come from make_seeds (C++); fuzz_records' and
fuzz_frame's request seeds were cut from the same captures by hand.
"""
import pathlib
import random
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
CORPUS = ROOT / "fuzz" / "corpus"


def frames(data):
    """The payloads of a stream of size-prefixed frames."""
    out, at = [], 0
    while at + 4 <= len(data):
        (n,) = struct.unpack(">i", data[at : at + 4])
        if n < 0 or at + 4 + n > len(data):
            break
        out.append(data[at + 4 : at + 4 + n])
        at += 4 + n
    return out


def captures():
    """(capture name, [(broker, requests, responses)]) per golden capture."""
    for d in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        conns = []
        for req in sorted(d.glob("conn*-broker*.requests.bin")):
            broker = int(re.search(r"broker(\d+)", req.name).group(1))
            res = req.with_name(req.name.replace(".requests.bin", ".responses.bin"))
            conns.append((broker, frames(req.read_bytes()), frames(res.read_bytes()) if res.exists() else []))
        yield d.name, conns


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(bytes(data))


def frame_responses():
    """fuzz_frame, response direction: one seed per (API, version), from the first capture that has it."""
    seen = set()
    for name, conns in captures():
        by_api = {}
        for _, requests, responses in conns:
            asked = {}
            for r in requests:
                key, version, correlation = struct.unpack(">hhi", r[:8])
                asked[correlation] = (key, version)
            for r in responses:
                (correlation,) = struct.unpack(">i", r[:4])
                if correlation in asked:
                    by_api.setdefault(asked[correlation], []).append(r)
        for (key, version), rs in sorted(by_api.items()):
            if (key, version) in seen:
                continue
            seen.add((key, version))
            stream = b"".join(struct.pack(">i", len(r)) + r for r in rs[:3])
            chunk = (len(stream) * 7 + key) % 64
            write("fuzz_frame", f"response-{name}-api{key}-v{version}", [0x40 | chunk, key, version] + list(stream))


def cluster_seeds():
    """fuzz_cluster: every request of a capture, on its broker and connection."""
    for i, (name, conns) in enumerate(captures()):
        config = (i * 2) % 20 | (i & 1)  # request log on for odd captures; a fault rule for some
        out = [config]
        for slot, (broker, requests, _) in enumerate(conns):
            for r in requests:
                out.append((broker & 3) | (slot & 3) << 2 | (1 << 4))
                out += struct.pack(">I", len(r)) + r
        write("fuzz_cluster", name, out)


def producer_seeds(rng):
    """fuzz_producer: scripts that mostly let the cluster answer, with a few of every other step."""
    for n in range(32):
        config = rng.randrange(256) if n else 0
        ops = []
        steps = rng.randrange(20, 120)
        for _ in range(steps):
            op = rng.choices(range(8), weights=[40, 4, 4, 3, 3, 12, 8, 3])[0]
            if op == 0:
                ops += [0, rng.randrange(4), rng.randrange(256)]
            elif op == 1:
                ops += [1, rng.randrange(4), rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256)]
            elif op == 2:
                body = [rng.randrange(256) for _ in range(rng.randrange(0, 24))]
                ops += [2, rng.randrange(4), len(body)] + body
            elif op == 3:
                raw = [rng.randrange(256) for _ in range(rng.randrange(0, 12))]
                ops += [3, rng.randrange(4), len(raw)] + raw
            elif op == 4:
                ops += [4 | rng.choice([0, 8]), rng.randrange(4)]
            else:
                ops += [op | rng.randrange(32) << 3]
        write("fuzz_producer", f"script-{n:02d}", [config] + ops)


def schedule_seeds(rng):
    """fuzz_schedule: a seed and 0-8 faults of random bytes."""
    for n in range(32):
        seed = rng.randrange(1 << 32)
        faults = bytes(rng.randrange(256) for _ in range(10 * (n % 9)))
        write("fuzz_schedule", f"schedule-{n:02d}", struct.pack("<I", seed) + faults)


def main():
    rng = random.Random(20240601)
    frame_responses()
    cluster_seeds()
    producer_seeds(rng)
    schedule_seeds(rng)


if __name__ == "__main__":
    main()
