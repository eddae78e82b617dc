#!/usr/bin/env bash
# Regenerates the golden byte vectors in tests/data/golden/ from real clients
# (kcat, kafka-python, confluent-kafka) talking to librdkafka's mock cluster
# through a recording proxy.  Everything listens on 127.0.0.1 only; every
# process is bounded in time.  Safe to re-run: each capture directory is
# replaced, nothing else under tests/data/golden/ is touched.
#
# Usage: tests/interop/capture/capture_all.sh [--only CAPTURE]...
# Needs: gcc, librdkafka-dev, kcat, python3-kafka, python3-confluent-kafka
#        (scripts/install-deps.sh --with-interop), and /usr/bin/python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out_root="$repo/tests/data/golden"
python=/usr/bin/python3
brokers=3
run_seconds=600 # upper bound for the mock and the proxy

work="$(mktemp -d "${TMPDIR:-/tmp}/kwire-capture.XXXXXX")"
mock_pid=""
proxy_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for tool in gcc kcat; do
  command -v "$tool" >/dev/null || { echo "capture_all: $tool missing" >&2; exit 1; }
done
"$python" -c 'import kafka, confluent_kafka' || {
  echo "capture_all: $python lacks kafka or confluent_kafka (scripts/install-deps.sh --with-interop)" >&2
  exit 1
}

# -rdynamic: mock_cluster interposes bind()/getsockname() for librdkafka.
gcc -std=c11 -O1 -Wall -Wextra -rdynamic -o "$work/mock_cluster" \
  "$here/mock_cluster.c" -lrdkafka -ldl

mkdir -p "$out_root"
echo - >"$work/capture"

"$python" "$here/recording_proxy.py" --brokers "$brokers" \
  --ports-file "$work/proxy_ports" --broker-file "$work/mock_brokers" \
  --capture-file "$work/capture" --status-file "$work/status" \
  --out-root "$out_root" --seconds "$run_seconds" &
proxy_pid=$!
for _ in $(seq 100); do [ -s "$work/proxy_ports" ] && break; sleep 0.1; done
proxy_ports="$(cat "$work/proxy_ports")"

topics=()
for t in kcat-none kcat-gzip kcat-snappy kcat-lz4 kcat-zstd kcat-acks \
  kcat-idempotent kcat-transactional kp-none kp-gzip kp-v3 kp-v5 kp-magic1 \
  kp-magic1-gzip; do
  topics+=(--topic "$t:3")
done
topics+=(--topic ck-snappy:2 --topic ck-txn:2)

"$work/mock_cluster" --brokers "$brokers" --seconds "$run_seconds" \
  --advertise-ports "$proxy_ports" --broker-file "$work/mock_brokers" \
  "${topics[@]}" >"$work/bootstrap" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
[ -s "$work/bootstrap" ] || { echo "capture_all: mock cluster did not start" >&2; exit 1; }
echo "capture_all: mock brokers (id real advertised):" >&2
cat "$work/mock_brokers" >&2

bootstrap="127.0.0.1:${proxy_ports%%,*}"
# Every broker must advertise its proxy port, or later connections bypass the proxy.
metadata="$(timeout 20 kcat -b "$bootstrap" -L)"
i=1
for port in ${proxy_ports//,/ }; do
  grep -q "broker $i at 127.0.0.1:$port\$" <<<"$metadata" || {
    echo "capture_all: broker $i does not advertise proxy port $port:" >&2
    echo "$metadata" >&2
    exit 1
  }
  i=$((i + 1))
done

only=()
for arg in "$@"; do only+=("$arg"); done
"$python" "$here/clients.py" --bootstrap "$bootstrap" \
  --capture-file "$work/capture" --status-file "$work/status" \
  --out-root "$out_root" "${only[@]}"

"$python" "$here/summarize.py" "$out_root" --quiet
