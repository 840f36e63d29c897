#!/usr/bin/env bash
# Tensor-parallel serving: `tessera generate` under mpirun (2 ranks, one tp group) prints what one
# process prints, for gpt2 and llama (grouped-query attention: 2 kv heads for 4 query heads), greedy
# and seeded sampling, and a q8_0 GGUF export served with --model; an offline JSONL batch on 2 ranks,
# resumed, writes what one process writes.
# Usage: generate_tp.sh MPIEXEC TESSERA CONFIG CORPUS_FILE
set -u
mpiexec=$1 tessera=$2 config=$3 corpus=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# same_on_two_ranks LABEL ARGS...: `tessera ARGS` on 2 ranks prints what one process prints.
same_on_two_ranks() {
  local label=$1
  shift
  "$tessera" "$@" >"$work/one.txt" 2>"$work/one.err" || { echo "FAIL: $label one process"; cat "$work/one.err"; failures=$((failures + 1)); }
  "$mpiexec" --oversubscribe -np 2 "$tessera" "$@" >"$work/two.txt" 2>"$work/two.err" ||
    { echo "FAIL: $label two ranks"; cat "$work/two.err"; failures=$((failures + 1)); }
  if cmp -s "$work/one.txt" "$work/two.txt"; then
    echo "ok: $label: tp=2 prints what tp=1 prints ($(wc -c <"$work/one.txt") bytes)"
  else
    echo "FAIL: $label: tp=2 differs from tp=1"; od -c "$work/one.txt" | head -3; od -c "$work/two.txt" | head -3
    failures=$((failures + 1))
  fi
}

"$tessera" tokenizer train --input "$corpus" --vocab-size 300 --out "$work/tok.json" >"$work/tok.log" 2>&1 ||
  { echo "FAIL: tokenizer"; cat "$work/tok.log"; exit 1; }
for family in gpt2 llama; do
  kv=0
  [ "$family" = llama ] && kv=2
  "$tessera" train --config "$config" --run-dir "$work/$family" --set train.steps=3 --set model.family="$family" \
    --set model.n_kv_head="$kv" --set model.vocab_size=320 --set model.seq_len=32 >"$work/$family.log" 2>&1 ||
    { echo "FAIL: train $family"; tail -5 "$work/$family.log"; exit 1; }
  for sampling in "" "--temperature 0.9 --top-p 0.95 --seed 11"; do
    same_on_two_ranks "$family ${sampling:-greedy}" \
      generate --ckpt "$work/$family" --tokenizer "$work/tok.json" --prompt Notes --max-tokens 16 $sampling
  done
done
# A GGUF file (q8_0, dequantized on load; its own tokenizer): each rank loads its shard from it.
"$tessera" ckpt export-gguf "$work/llama" "$work/llama.gguf" --dtype q8_0 --tokenizer "$work/tok.json" \
  >"$work/gguf.log" 2>&1 || { echo "FAIL: export-gguf"; cat "$work/gguf.log"; failures=$((failures + 1)); }
same_on_two_ranks "llama q8_0 GGUF" generate --model "$work/llama.gguf" --prompt Notes --max-tokens 16
# Offline batches: 2 ranks write (rank 0) what one process writes, and resume alike.
printf '%s\n' '{"custom_id": "a", "body": {"prompt": "Notes", "max_tokens": 6}}' \
  '{"custom_id": "b", "body": {"prompt": "The", "max_tokens": 9, "temperature": 0.8, "seed": 2}}' \
  'not json' '{"custom_id": "c", "body": {"prompt": "A note", "max_tokens": 4}}' >"$work/in.jsonl"
batch() {  # batch RANKS OUT
  "$mpiexec" --oversubscribe -np "$1" "$tessera" generate --ckpt "$work/llama" --tokenizer "$work/tok.json" \
    --input "$work/in.jsonl" --output "$2" >"$work/batch$1.log" 2>&1
  [ $? -eq 1 ] || { echo "FAIL: batch on $1 ranks: exit status should be 1 (one bad line)"; cat "$work/batch$1.log"; failures=$((failures + 1)); }
}
batch 1 "$work/out1.jsonl"
head -1 "$work/out1.jsonl" >"$work/out2.jsonl"  # a resume: the first result is already there
batch 2 "$work/out2.jsonl"
if cmp -s <(sort "$work/out1.jsonl") <(sort "$work/out2.jsonl"); then
  echo "ok: offline batch on 2 ranks (resumed) writes what one process writes ($(wc -l <"$work/out2.jsonl") results)"
else
  echo "FAIL: offline batch on 2 ranks differs"; cat "$work/out1.jsonl" "$work/out2.jsonl"; failures=$((failures + 1))
fi
grep -q "line 3:" "$work/batch2.log" || { echo "FAIL: the bad line is not reported on 2 ranks"; cat "$work/batch2.log"; failures=$((failures + 1)); }
[ "$(grep -c 'line 3:' "$work/batch2.log")" -eq 1 ] || { echo "FAIL: the bad line is reported more than once"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] && echo "generate_tp: all passed"
exit "$failures"
