#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds kwire
# (optimised), and runs it. Until the producer's shell and its payment demo
# land, the main job lists every API the codec knows and decodes the golden frames that
# real clients sent, which shows the codec working end to end.
# Usage: scripts/run.sh [kwire arguments]   (no arguments: the default job)
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
echo "== kwire schema: every API the codec was generated for"
"$build_dir/tools/kwire" schema
capture=tests/data/golden/kcat-produce-zstd
for req in "$capture"/*.requests.bin; do
  echo "== kwire decode --requests $req (what kcat sent)"
  "$build_dir/tools/kwire" decode --requests "$req"
  echo "== kwire decode --requests $req --responses ${req%.requests.bin}.responses.bin (what librdkafka's mock answered)"
  "$build_dir/tools/kwire" decode --requests "$req" --responses "${req%.requests.bin}.responses.bin"
done
