#!/usr/bin/env python3
"""Runs `kwire decode` over the golden captures and over broken streams, and
checks what it prints: one JSON object per line, every request and response
decoded (but for the responses librdkafka's mock gets wrong, listed in
tests/data/golden), records decoded, clear error objects for bad input, and
usage errors that exit 2 naming the option.

Usage: check_decode.py KWIRE GOLDEN_DIR
"""

import json
import os
import struct
import subprocess
import sys
import tempfile


def decode(kwire, *args, stdin=None):
    p = subprocess.run([kwire, "decode", *args], input=stdin, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"kwire decode {' '.join(args)} exited {p.returncode}: {p.stderr!r}")
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def main(kwire, golden):
    checked = requests = responses = records = 0
    for capture in sorted(os.listdir(golden)):
        d = os.path.join(golden, capture)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".requests.bin"):
                continue
            req = os.path.join(d, name)
            resp = req.replace(".requests.bin", ".responses.bin")
            for obj in decode(kwire, "--requests", req):
                assert "error" not in obj, (req, obj)
                assert {"apiKey", "apiName", "apiVersion", "correlationId", "clientId", "body"} <= obj.keys()
                requests += 1
                if obj["apiName"] == "Produce":
                    for t in obj["body"]["TopicData"]:
                        for p in t["PartitionData"]:
                            recs = p["Records"]
                            for b in recs.get("batches", []):
                                assert b["compression"] in ("none", "gzip", "snappy", "lz4", "zstd"), b
                                records += len(b["records"])
                            records += len(recs.get("messageSet", []))
            for obj in decode(kwire, "--requests", req, "--responses", resp):
                if "error" in obj:
                    # Only the mock's known mistakes may fail (see the golden README).
                    known = (obj.get("apiName") == "ApiVersions" or
                             (capture == "kafka-python-produce-1.1-gzip" and obj.get("apiName") == "Produce"))
                    assert known, (resp, obj)
                    assert "byte offset" in obj["error"] and "errorOffset" in obj, obj
                else:
                    responses += 1
            checked += 1

    # Broken streams: garbage after good frames, a cut-off frame, a 2 GiB size prefix.
    sample = os.path.join(golden, "kcat-produce-zstd")
    good = open(os.path.join(sample, sorted(f for f in os.listdir(sample) if f.endswith(".requests.bin"))[0]), "rb").read()
    bad_frame = struct.pack(">i", 6) + b"\x00\x00\x7f\x7f\x00\x00"  # API key 0, version 32639
    objs = decode(kwire, "--requests", "-", stdin=good + bad_frame + good[:10])
    errors = [o for o in objs if "error" in o]
    assert len(errors) == 2, objs
    assert "unsupported API version" in errors[0]["error"] and errors[0]["offset"] == len(good), errors[0]
    assert "truncated frame" in errors[1]["error"], errors[1]
    objs = decode(kwire, "--requests", "-", stdin=struct.pack(">i", 0x7fffffff) + b"xx")
    assert len(objs) == 1 and "exceeds the maximum" in objs[0]["error"], objs

    # Usage errors: exit 2, the option named.
    for args, option in ((["--responses", "x"], "--requests"),
                         (["--requests", "-", "--responses", "-"], "--responses"),
                         (["--requests", "-", "--max-frame-size", "0"], "--max-frame-size"),
                         (["--requests", "-", "--max-frame-size", "2147483648"], "--max-frame-size"),
                         (["--requests"], "--requests"),
                         (["--requests", "-", "--bogus"], "--bogus")):
        p = subprocess.run([kwire, "decode", *args], input=b"", capture_output=True, timeout=60)
        assert p.returncode == 2 and option in p.stderr.decode(), (args, p.returncode, p.stderr)

    print(f"kwire decode: {checked} connections, {requests} requests, {responses} responses, "
          f"{records} records decoded; broken streams reported; usage errors exit 2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
