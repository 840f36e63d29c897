#!/usr/bin/env bash
# Tensor-parallel serving over HTTP: `mpirun -np 2 tessera serve` (rank 0 serves HTTP, both ranks
# step the engine) answers what one process answers, byte for byte: greedy, seeded sampling, n=2,
# a stream, concurrent requests, and a second version loaded while serving (on every rank), pinned,
# then promoted; SIGUSR1 to mpirun (forwarded to the ranks at once) drains and
# stops both ranks with exit status 0. A load that fails on one rank only is refused on all.
# Usage: http_tp.sh MPIEXEC TESSERA CONFIG CORPUS
set -u
mpiexec=$1 tessera=$2 config=$3 corpus=$4
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/common.sh"
make_checkpoint "$config" "$corpus"
"$tessera" train --config "$config" --run-dir "$work/run2" --set train.steps=3 --set train.seed=8 \
  --set model.vocab_size=320 --set model.seq_len=64 >"$work/train2.log" 2>&1 || { fail "train run2"; tail -5 "$work/train2.log"; }
echo sk-admin >"$work/admin"

# answers OUT: the texts of a fixed set of requests, some sent at once.
answers() {
  local out=$1
  for body in '{"prompt": "Notes", "max_tokens": 20}' \
    '{"prompt": "你好 🌍", "max_tokens": 24, "temperature": 0.9, "top_p": 0.95, "seed": 11, "n": 2}' \
    '{"messages": [{"role": "user", "content": "A note"}], "max_tokens": 16, "temperature": 0.7, "seed": 3}'; do
    path=/v1/completions
    case $body in *messages*) path=/v1/chat/completions ;; esac
    curl -s -H 'Content-Type: application/json' --data-binary "$body" "$url$path" |
      python3 -c 'import json,sys; r=json.load(sys.stdin); print([c.get("text", c.get("message", {}).get("content")) for c in r["choices"]])' >>"$out"
  done
  local pids=()
  for i in 1 2 3 4; do
    curl -s -H 'Content-Type: application/json' --data-binary "{\"prompt\": \"Note $i\", \"max_tokens\": 12, \"seed\": $i, \"temperature\": 1}" \
      "$url/v1/completions" >"$work/concurrent$i.json" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for i in 1 2 3 4; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["text"])' "$work/concurrent$i.json" >>"$out"; done
  curl -sN -H 'Content-Type: application/json' --data-binary '{"prompt": "Notes", "max_tokens": 20, "stream": true}' \
    "$url/v1/completions" | python3 -c '
import json, sys
print("".join(json.loads(l[6:])["choices"][0]["text"] for l in sys.stdin if l.startswith("data: {")))' >>"$out"
  # A second version: loaded on every rank, pinned, promoted.
  local admin=(-s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer sk-admin')
  curl "${admin[@]}" --data-binary "{\"ref\": \"$work/run2\"}" "$url/admin/versions/load" >>"$out"
  for model in "$work/run@v2" "$work/run@v1"; do
    curl -s -H 'Content-Type: application/json' --data-binary "{\"model\": \"$model\", \"prompt\": \"Notes\", \"max_tokens\": 16}" \
      "$url/v1/completions" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["system_fingerprint"], r["choices"][0]["text"])' >>"$out"
  done
  curl "${admin[@]}" --data-binary '{}' "$url/admin/versions/promote" >>"$out"
  curl -s -H 'Content-Type: application/json' --data-binary '{"prompt": "Notes", "max_tokens": 16, "seed": 5, "temperature": 1}' \
    "$url/v1/completions" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["system_fingerprint"], r["choices"][0]["text"])' >>"$out"
}

start_server "$work/one.log" -- --admin-key-file "$work/admin" --audit-log "$work/audit1.jsonl"
answers "$work/one.txt"
stop_server
start_server "$work/two.log" "$mpiexec" --oversubscribe -np 2 -- --admin-key-file "$work/admin" --audit-log "$work/audit2.jsonl"
answers "$work/two.txt"
stop_server USR1
# A load that fails on one rank only: a relative path that names the second run in rank 0's working
# directory and nothing in rank 1's. The ranks agree on the outcome before any collective: the
# admin gets an error naming rank 1, neither rank keeps the version, and both go on serving.
mkdir -p "$work/wd0" "$work/wd1"
ln -s "$work/run2" "$work/wd0/other"
serve_args=(serve --ckpt "$work/run" --tokenizer "$work/tok.json" --port 0 --admin-key-file "$work/admin")
"$mpiexec" --oversubscribe -np 1 --wdir "$work/wd0" "$tessera" "${serve_args[@]}" : \
  -np 1 --wdir "$work/wd1" "$tessera" "${serve_args[@]}" >"$work/split.log" 2>&1 &
server_pid=$!
wait_listening "$work/split.log"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Authorization: Bearer sk-admin' --data-binary '{"ref": "other"}' \
  "$url/admin/versions/load")
if [ "$code" = 400 ] && grep -q 'rank 1 on' "$work/body"; then
  ok "a load failing on rank 1 only is refused, naming it: $(head -c 160 "$work/body")"
else
  fail "a load failing on rank 1 only: HTTP $code $(head -c 300 "$work/body")"
fi
after=$(curl -s -H 'Content-Type: application/json' --data-binary '{"prompt": "Notes", "max_tokens": 8}' "$url/v1/completions" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["system_fingerprint"], len(r["choices"][0]["text"]) >= 0)')
[ "$after" = "v1 True" ] && ok "both ranks serve on after it" || { fail "serving after the failed load: $after"; tail -5 "$work/split.log"; }
stop_server USR1

grep -q '^v2 ' "$work/one.txt" && [ "$(grep -c '^200$' "$work/one.txt")" = 2 ] || fail "versions: $(cat "$work/one.txt")"
if [ -s "$work/one.txt" ] && cmp -s "$work/one.txt" "$work/two.txt"; then
  ok "2 ranks answer what one process answers ($(wc -l <"$work/one.txt") answers)"
else
  fail "2 ranks differ from one process"; diff "$work/one.txt" "$work/two.txt" | head; tail -5 "$work/two.log"
fi
[ "$failures" -eq 0 ] && echo "http_tp: all passed"
exit "$failures"
