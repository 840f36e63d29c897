#!/bin/sh
# Installs node-llama-cpp (llama.cpp with prebuilt CPU binaries) into DIR/node_modules unless the
# pinned version is already there. Only this platform's binary package is fetched (the optional
# GPU variants are left out: about 80 MB instead of 700 MB).
# Exit status: 0 installed (or already present); 1 node/npm missing or the install failed.
# Usage: install_llama_cpp.sh DIR
set -u
dir=${1:?usage: install_llama_cpp.sh DIR}
version=3.21.1
installed() {
  node -e "process.exit(require('$dir/node_modules/node-llama-cpp/package.json').version === '$version' ? 0 : 1)" \
    2>/dev/null
}
command -v node >/dev/null 2>&1 || { echo "node is not installed"; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm is not installed"; exit 1; }
installed && exit 0
mkdir -p "$dir" || exit 1
# Tests may run in parallel: one installs, the others wait for it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.install.lock"
  flock 9
  installed && exit 0
fi
platform=$(node -p 'process.platform + "-" + process.arch') || exit 1
cd "$dir" || exit 1
[ -f package.json ] || echo '{"name": "tessera-interop", "private": true}' > package.json
npm install --no-audit --no-fund --no-package-lock --omit=optional \
  "node-llama-cpp@$version" "@node-llama-cpp/$platform@$version" || { echo "npm install failed"; exit 1; }
installed || { echo "node-llama-cpp $version is not usable after the install"; exit 1; }
