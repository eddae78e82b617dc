#!/usr/bin/python3
"""Summarizes golden captures: requests per connection and request/response pairing.

Usage: summarize.py [GOLDEN_DIR] [--quiet]

For every capture directory under GOLDEN_DIR (default: tests/data/golden next to
this repository's tests/interop/capture), reads each connNN-brokerB.requests.bin
and .responses.bin (streams of int32-size-prefixed frames), prints the
(api key, api version, correlation id) of every request and whether a response
with that correlation id exists.  Produce requests with acks=0 expect no
response and are marked as such; requests still unanswered when the client
closed the connection (every later request unanswered too, typically a
long-poll Fetch of a consumer that had read enough) are marked "pending at
close" and are not a problem.  Ends with the API/version spread over all
captures.  Exit status 1 if any request that expects a response has none, or a
response matches no request.  Standard library only.
"""

import glob
import os
import struct
import sys

API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
    13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
    17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
    21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
    24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn",
    28: "TxnOffsetCommit", 32: "DescribeConfigs", 33: "AlterConfigs",
    36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups",
    47: "OffsetDelete", 60: "DescribeCluster",
}
# First flexible version of the request, for the APIs whose header we must skip
# past (only Produce, to read acks).
PRODUCE_FIRST_FLEXIBLE = 9


def read_frames(path):
    """Returns the frame bodies (without size prefix) of a size-prefixed stream."""
    frames = []
    if not os.path.exists(path):
        return frames
    with open(path, "rb") as f:
        data = f.read()
    offset = 0
    while offset + 4 <= len(data):
        (size,) = struct.unpack_from(">i", data, offset)
        if size < 0 or offset + 4 + size > len(data):
            raise ValueError(f"{path}: truncated frame at byte {offset}")
        frames.append(data[offset + 4:offset + 4 + size])
        offset += 4 + size
    if offset != len(data):
        raise ValueError(f"{path}: {len(data) - offset} trailing bytes")
    return frames


def read_uvarint(body, offset):
    value = shift = 0
    while True:
        byte = body[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def produce_acks(body, version):
    """Reads acks from a Produce request frame body (header included)."""
    offset = 8
    (client_id_len,) = struct.unpack_from(">h", body, offset)
    offset += 2 + max(client_id_len, 0)
    flexible = version >= PRODUCE_FIRST_FLEXIBLE
    if flexible:  # request header v2: tagged fields
        count, offset = read_uvarint(body, offset)
        for _ in range(count):
            _, offset = read_uvarint(body, offset)
            size, offset = read_uvarint(body, offset)
            offset += size
    if version >= 3:  # transactional_id
        if flexible:
            length, offset = read_uvarint(body, offset)
            offset += max(length - 1, 0)
        else:
            (length,) = struct.unpack_from(">h", body, offset)
            offset += 2 + max(length, 0)
    (acks,) = struct.unpack_from(">h", body, offset)
    return acks


def api_name(key):
    return API_NAMES.get(key, f"api{key}")


def summarize_capture(directory, spread, quiet):
    problems = 0
    name = os.path.basename(directory)
    request_files = sorted(glob.glob(os.path.join(directory, "*.requests.bin")))
    print(f"== {name}: {len(request_files)} connection(s)")
    capture_apis = {}
    for request_file in request_files:
        response_file = request_file[:-len(".requests.bin")] + ".responses.bin"
        requests = read_frames(request_file)
        responses = read_frames(response_file)
        response_ids = {}
        for body in responses:
            (corr,) = struct.unpack_from(">i", body, 0)
            response_ids[corr] = response_ids.get(corr, 0) + 1
        conn = os.path.basename(request_file)[:-len(".requests.bin")]
        print(f"  {conn}: {len(requests)} requests, {len(responses)} responses")
        seen_ids = set()
        parsed = []
        for body in requests:
            key, version, corr = struct.unpack_from(">hhi", body, 0)
            expects_response = not (key == 0 and produce_acks(body, version) == 0)
            parsed.append((key, version, corr, expects_response))
        # Index of the last request that got a response: later ones were pending.
        last_answered = max((i for i, p in enumerate(parsed) if p[2] in response_ids),
                            default=-1)
        for index, (key, version, corr, expects_response) in enumerate(parsed):
            seen_ids.add(corr)
            answered = corr in response_ids
            if not expects_response:
                status = "acks=0, no response expected"
            elif answered:
                status = "ok"
            elif index > last_answered:
                status = "pending at close"
            else:
                status = "NO RESPONSE"
                problems += 1
            spread.setdefault((key, version), set()).add(name)
            if not quiet or status == "NO RESPONSE":
                print(f"    {api_name(key):<16} v{version:<2} corr={corr:<5} {status}")
        for key, version, _, _ in parsed:
            capture_apis.setdefault(key, set()).add(version)
        orphans = sorted(set(response_ids) - seen_ids)
        if orphans:
            print(f"    responses without request: correlation ids {orphans}")
            problems += len(orphans)
    print("  apis: " + ", ".join(
        f"{api_name(k)} " + "/".join(f"v{v}" for v in sorted(vs))
        for k, vs in sorted(capture_apis.items())))
    return problems


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quiet = "--quiet" in sys.argv
    here = os.path.dirname(os.path.abspath(__file__))
    root = args[0] if args else os.path.join(here, "..", "..", "data", "golden")
    spread = {}
    problems = 0
    captures = sorted(d for d in glob.glob(os.path.join(root, "*")) if os.path.isdir(d))
    for directory in captures:
        problems += summarize_capture(directory, spread, quiet)
    print("== API/version spread (captures using it)")
    by_key = {}
    for (key, version), names in spread.items():
        by_key.setdefault(key, {})[version] = len(names)
    for key in sorted(by_key):
        versions = ", ".join(f"v{v} ({n})" for v, n in sorted(by_key[key].items()))
        print(f"  {key:>2} {api_name(key):<16} {versions}")
    print(f"== {len(captures)} captures, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
