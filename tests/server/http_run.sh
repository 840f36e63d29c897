#!/usr/bin/env bash
# `tessera run --serve-port` on 2 ranks: the processes that just trained serve HTTP with the weights
# in memory (trained data parallel, dp = 2: the two replicas re-form into one tensor-parallel group
# of 2 for serving, each rank copying out its shard), answering greedy requests as a one-process
# `tessera serve` answers from the saved checkpoint; POST /admin/stop ends the job with exit status 0;
# the audit log is RUN_DIR/audit.jsonl.
# Usage: http_run.sh MPIEXEC TESSERA CORPUS
set -u
mpiexec=$1 tessera=$2 corpus=$3
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../support/common.sh"
tiny_data "$tessera" "$corpus"
tiny_config 32 1 20
echo admin-key >"$work/admin"
ask() {  # ask OUT: greedy answers to a few prompts
  for p in "The best way to" "You will" "你好"; do
    curl -s -H 'Content-Type: application/json' --data-binary "{\"prompt\": \"$p\", \"max_tokens\": 12}" "$url/v1/completions" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["text"])' >>"$1"
  done
}
# start_server runs `serve --ckpt $work/run`: point it at this run's checkpoint and tokenizer.
"$mpiexec" --oversubscribe -np 2 "$tessera" run --config "$work/run.toml" --run-dir "$work/run" --serve-port 0 \
  --admin-key-file "$work/admin" --served-model-name trained >"$work/run.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1200); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/run.log" | head -1)
  [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the run ended"; cat "$work/run.log"; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$port"
grep -q "trained 20 steps" "$work/run.log" || fail "did not train"
grep -q "re-formed into one tensor-parallel group of 2 rank" "$work/run.log" || fail "the replicas did not re-form"
expect 200 GET /v1/models ""
grep -q '"id":"trained"' "$work/body" || fail "the served name"
ask "$work/run.txt"
expect 200 POST /admin/stop "{}" -H "Authorization: Bearer admin-key"
wait "$server_pid"
rc=$?
[ "$rc" -eq 0 ] && ok "the run's serve phase stops with exit 0" || { fail "run exit status $rc"; tail -5 "$work/run.log"; }
[ -f "$work/run/audit.jsonl" ] && ok "the audit log is the run's own" || fail "no audit log in the run directory"
cp "$work/data/tokenizer.json" "$work/tok.json"
start_server "$work/serve.log" --
ask "$work/fresh.txt"
stop_server
if [ -s "$work/run.txt" ] && cmp -s "$work/run.txt" "$work/fresh.txt"; then ok "answers from memory equal tessera serve's from the checkpoint"
else fail "answers differ: $(paste -d'|' "$work/run.txt" "$work/fresh.txt")"; fi
[ "$failures" -eq 0 ] && echo "http_run: all passed"
exit "$failures"
