#!/usr/bin/env bash
# Fuzzes the request path of tessera serve on loopback (fuzz_requests.py): N mutated requests, zero
# 5xx, every response well-formed, the server alive afterwards and exiting 0 on SIGTERM.
# Usage: http_fuzz.sh TESSERA CONFIG CORPUS [N] [SEED]   (CI: 300; the long setting: 10000 on an
# ASan/UBSan build, docs/serving.md)
set -u
tessera=$1 config=$2 corpus=$3 n=${4:-300} seed=${5:-1}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/common.sh"
make_checkpoint "$config" "$corpus"
echo sk-fuzz-admin >"$work/admin"
start_server "$work/server.log" -- --max-n 4 --admin-key-file "$work/admin" --audit-log "$work/audit.jsonl"
python3 "$(dirname "$0")/fuzz_requests.py" "$url" "$n" "$seed" sk-fuzz-admin && ok "$n mutated requests" || fail "fuzz"
expect 200 GET /health ""
stop_server
grep -i "sanitizer\|runtime error" "$work/server.log" && fail "sanitizer reports"
[ "$failures" -eq 0 ] && echo "http_fuzz: all passed"
exit "$failures"
