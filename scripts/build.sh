#!/usr/bin/env bash
# Configures and builds Tessera into build/ (Release; CUDA when nvcc is found).
# Extra arguments go to the configure step, e.g. ./scripts/build.sh -DTESSERA_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${TESSERA_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
