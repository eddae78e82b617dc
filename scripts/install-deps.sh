#!/usr/bin/env bash
# Installs the Debian packages that kwire's build, tests and interop tests need,
# but only those that are missing, so a second run costs a dpkg query and nothing more.
# Usage: scripts/install-deps.sh [--with-interop] [--with-clang] [--with-dev]
#   (root, or sudo available)
set -euo pipefail

# clang-format-14 formats the generated code (the build leaves it unformatted
# without one) and is what CI checks hand-written code with, against .clang-format.
build_packages=(
  cmake make g++ python3 pkg-config clang-format-14
  libboost1.81-dev libcli11-dev
  catch2 libbenchmark-dev
  zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
)
# Real clients that no one here wrote, for interop and golden-vector tests.
interop_packages=(
  kcat librdkafka-dev python3-kafka python3-confluent-kafka curl
)
# clang for the fuzzers and the clang build (libFuzzer runtime lives in libclang-rt-14-dev).
clang_packages=(clang-14 libclang-rt-14-dev)
# For development: ccache shares compiled objects between build trees and
# worktrees (cmake -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
dev_packages=(ccache)

wanted=("${build_packages[@]}")
for arg in "$@"; do
  case "$arg" in
    --with-interop) wanted+=("${interop_packages[@]}") ;;
    --with-clang) wanted+=("${clang_packages[@]}") ;;
    --with-dev) wanted+=("${dev_packages[@]}") ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
