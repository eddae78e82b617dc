#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds kwire
# (optimised), and runs the card-payment demo: a 3-broker mock cluster on
# loopback, 1,000,000 payments keyed by card number sent by the idempotent
# producer (acks=all) through injected errors, lost acknowledgements, latency
# and a leader move, then the logs read back and checked (kwire demo --help).
# Usage: scripts/run.sh [kwire arguments]   (no arguments: kwire demo)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${KWIRE_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DKWIRE_BUILD_TESTS=OFF \
  -DKWIRE_BUILD_BENCH=OFF -DKWIRE_BUILD_FUZZ=OFF >/dev/null
cmake --build "$build_dir" -j "${KWIRE_JOBS:-$(nproc)}" --target kwire

if [ $# -gt 0 ]; then
  exec "$build_dir/tools/kwire" "$@"
fi
exec "$build_dir/tools/kwire" demo
