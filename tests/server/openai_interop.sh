#!/usr/bin/env bash
# The official openai npm package (installed into INTEROP_DIR on first run) against tessera serve
# on loopback: tests/interop/openai_client.cjs.
# Usage: openai_interop.sh TESSERA CONFIG CORPUS INTEROP_DIR
set -u
tessera=$1 config=$2 corpus=$3 interop=$4
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../interop/install_openai.sh" "$interop" || { echo "FAIL: cannot install the openai package"; exit 1; }
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$here/common.sh"
make_checkpoint "$config" "$corpus"
echo "sk-interop" >"$work/keys"
start_server "$work/server.log" -- --api-key-file "$work/keys" --max-queued-tokens 40 --served-model-name tiny
node "$here/../interop/openai_client.cjs" "$interop/node_modules" "$url/v1" sk-interop tiny || fail "the openai client"
stop_server
exit "$failures"
