#!/usr/bin/env bash
# Tensor-parallel serving: `tessera generate` under mpirun (2 ranks, one tp group) prints what one
# process prints, for gpt2 and llama (grouped-query attention: 2 kv heads for 4 query heads), greedy
# and seeded sampling; offline batches under mpirun are refused with a clear error.
# Usage: generate_tp.sh MPIEXEC TESSERA CONFIG CORPUS_FILE
set -u
mpiexec=$1 tessera=$2 config=$3 corpus=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

"$tessera" tokenizer train --input "$corpus" --vocab-size 300 --out "$work/tok.json" >"$work/tok.log" 2>&1 ||
  { echo "FAIL: tokenizer"; cat "$work/tok.log"; exit 1; }
for family in gpt2 llama; do
  kv=0
  [ "$family" = llama ] && kv=2
  "$tessera" train --config "$config" --run-dir "$work/$family" --set train.steps=3 --set model.family="$family" \
    --set model.n_kv_head="$kv" --set model.vocab_size=320 --set model.seq_len=32 >"$work/$family.log" 2>&1 ||
    { echo "FAIL: train $family"; tail -5 "$work/$family.log"; exit 1; }
  for sampling in "" "--temperature 0.9 --top-p 0.95 --seed 11"; do
    args="generate --ckpt $work/$family --tokenizer $work/tok.json --prompt Notes --max-tokens 16 $sampling"
    "$tessera" $args >"$work/one.txt" 2>"$work/one.err" || { echo "FAIL: $family one process"; cat "$work/one.err"; failures=$((failures + 1)); }
    "$mpiexec" --oversubscribe -np 2 "$tessera" $args >"$work/two.txt" 2>"$work/two.err" ||
      { echo "FAIL: $family two ranks"; cat "$work/two.err"; failures=$((failures + 1)); }
    if cmp -s "$work/one.txt" "$work/two.txt"; then
      echo "ok: $family ${sampling:-greedy}: tp=2 prints what tp=1 prints ($(wc -c <"$work/one.txt") bytes)"
    else
      echo "FAIL: $family ${sampling:-greedy}: tp=2 differs from tp=1"; od -c "$work/one.txt" | head -3; od -c "$work/two.txt" | head -3
      failures=$((failures + 1))
    fi
  done
done
echo '{"custom_id": "a", "body": {"prompt": "x"}}' >"$work/in.jsonl"
if "$mpiexec" --oversubscribe -np 2 "$tessera" generate --ckpt "$work/gpt2" --tokenizer "$work/tok.json" \
    --input "$work/in.jsonl" --output "$work/out.jsonl" >"$work/batch.log" 2>&1; then
  echo "FAIL: an offline batch under mpirun should be refused"; failures=$((failures + 1))
elif ! grep -q "offline batches run on one process" "$work/batch.log"; then
  echo "FAIL: no clear error for an offline batch under mpirun"; cat "$work/batch.log"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "generate_tp: all passed"
exit "$failures"
