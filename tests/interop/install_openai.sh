#!/bin/sh
# Installs the official `openai` npm package (pinned) into DIR/node_modules unless that version is
# already there; parallel runs wait for one install (flock).
# Exit status: 0 installed (or already present); 1 node/npm missing or the install failed.
# Usage: install_openai.sh DIR
set -u
dir=${1:?usage: install_openai.sh DIR}
version=6.30.1
installed() {
  node -e "const fs = require('fs');
    process.exit(JSON.parse(fs.readFileSync('$dir/node_modules/openai/package.json')).version === '$version' ? 0 : 1)" \
    2>/dev/null
}
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "node and npm are needed"; exit 1; }
installed && exit 0
mkdir -p "$dir" || exit 1
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.install.lock"
  flock 9
  installed && exit 0
fi
cd "$dir" || exit 1
[ -f package.json ] || echo '{"name": "tessera-interop", "private": true}' > package.json
npm install --no-audit --no-fund --no-package-lock "openai@$version" || { echo "npm install failed"; exit 1; }
installed || { echo "openai $version is not usable after the install"; exit 1; }
