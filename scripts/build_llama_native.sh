#!/bin/sh
# Builds llama.cpp for this CPU (GGML_NATIVE, Release; llama-bench and llama-server only) from the
# sources node-llama-cpp ships (a git bundle in node_modules/node-llama-cpp/llama/), outside the
# repository, for the side-by-side decode figures in docs/benchmarks.md.
# Usage: build_llama_native.sh [PREFIX]   (default /work/llama-native; binaries in PREFIX/bin)
# Env: JOBS (default 2).
set -eu
prefix=${1:-/work/llama-native}
here=$(cd "$(dirname "$0")/.." && pwd)
sh "$here/tests/interop/install_llama_cpp.sh" "$prefix/npm"
bundle="$prefix/npm/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -d "$prefix/src/.git" ] || git clone --quiet "$bundle" "$prefix/src"
cmake -S "$prefix/src" -B "$prefix/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF
nice cmake --build "$prefix/build" -j "${JOBS:-2}" --target llama-bench llama-server
mkdir -p "$prefix/bin"
cp "$prefix/build/bin/llama-bench" "$prefix/build/bin/llama-server" "$prefix/bin/"
echo "llama.cpp $(git -C "$prefix/src" describe --tags --always) in $prefix/bin"
