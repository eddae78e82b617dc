#!/usr/bin/env bash
# The test command: installs what is missing, checks the formatting, builds everything with
# AddressSanitizer and UndefinedBehaviorSanitizer, warnings as errors, and runs
# every test (Catch2 through ctest, and the fuzz targets over their corpora).
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --with-interop
# Hand-written code as .clang-format says, before spending time on a build.
scripts/check-format.sh

build_dir=${KWIRE_TEST_BUILD_DIR:-build-test}
jobs=${KWIRE_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DKWIRE_SANITIZE=ON -DKWIRE_WERROR=ON \
  -DKWIRE_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "$@"

# The fuzz targets under clang with libFuzzer and the sanitizers, a bounded
# time each (KWIRE_FUZZ_SECONDS, default 20): see fuzz/README.md.
scripts/fuzz-smoke.sh
