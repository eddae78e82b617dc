#!/usr/bin/env bash
# Builds every fuzz target with clang-14, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings as errors) and runs each for a bounded
# time from its seed corpus. A crash, leak, sanitizer report or timeout fails.
# New inputs go to a scratch directory in the build tree, never into fuzz/corpus/.
# Usage: scripts/fuzz-smoke.sh [target ...]   (default: every fuzz/fuzz_*.cc)
# The smoke is seeded (KWIRE_FUZZ_SEED, default 1), so that CI explores the
# same inputs on every run and a red CI means a change broke something, not
# that this run was luckier; exploratory fuzzing is the long runs of
# fuzz/README.md (and KWIRE_FUZZ_SEED=0 here: libFuzzer picks a seed).
# Environment: KWIRE_FUZZ_SECONDS (per target, default 20), KWIRE_FUZZ_SEED,
#              KWIRE_FUZZ_BUILD_DIR (default build-fuzz), KWIRE_JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --with-clang

build_dir=${KWIRE_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${KWIRE_FUZZ_SECONDS:-20}
seed=${KWIRE_FUZZ_SEED:-1}
jobs=${KWIRE_JOBS:-$(nproc)}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in fuzz/fuzz_*.cc; do targets+=("$(basename "$src" .cc)"); done
fi

CC=clang-14 CXX=clang++-14 cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKWIRE_LIBFUZZER=ON -DKWIRE_SANITIZE=ON -DKWIRE_WERROR=ON \
  -DKWIRE_BUILD_TESTS=OFF -DKWIRE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
  work="$build_dir/fuzz-smoke/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  echo "fuzz-smoke: $t for ${seconds}s" >&2
  # The first corpus directory receives new inputs; the seeds are only read.
  if "$build_dir/fuzz/$t" -seed="$seed" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
      "$work/corpus" "fuzz/corpus/$t" >"$work/log" 2>&1; then
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$work/log" >&2 || true
  else
    echo "fuzz-smoke: $t FAILED; log: $work/log; inputs:" "$work"/artifacts/* >&2
    tail -n 60 "$work/log" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-smoke: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-smoke: ${#targets[@]} targets ran ${seconds}s each without a crash" >&2
