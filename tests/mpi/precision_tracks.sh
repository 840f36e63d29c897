#!/usr/bin/env bash
# bf16 training tracks fp32 training: the same config (the tiny gpt2 on the test corpus, 300
# steps) in train.precision fp32 and bf16 reaches a final validation loss within 1% (relative) on
# 1 rank and on 2 ranks with data parallelism (gradient sync in bf16), tensor parallelism, and
# ZeRO-1 (gradient reduce-scatter in bf16); and it trains (the final loss is below the first).
# Usage: precision_tracks.sh MPIEXEC TESSERA CONFIG CORPUS
. "$(dirname "$0")/common.sh"
mpiexec=$1 tessera=$2 config=$3 corpus=$4
failures=0

"$tessera" prepare --input "$corpus" --out "$work/data" --train-tokenizer --vocab-size 320 --val-fraction 0.25 \
  >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; exit 1; }

# train NAME RANKS TP ZERO PRECISION SYNC_PRECISION
train() {
  "$mpiexec" --oversubscribe -np "$2" "$tessera" train --config "$config" --run-dir "$work/$1" --no-samples \
    --set data.dir="$work/data" --set model.vocab_size=320 --set train.steps=300 --set train.eval_batches=4 \
    --set train.lr=3e-3 --set train.min_lr=3e-4 --set train.warmup_steps=20 \
    --set parallel.tp="$3" --set parallel.zero="$4" --set train.precision="$5" --set parallel.sync_precision="$6" \
    >"$work/$1.log" 2>&1 || { echo "FAIL: $1 exited non-zero:"; tail -5 "$work/$1.log"; failures=$((failures + 1)); }
}

for layout in "1rank 1 1 false" "dp2 2 1 false" "tp2 2 2 false" "dp2_zero 2 1 true"; do
  set -- $layout
  train "$1_fp32" "$2" "$3" "$4" fp32 fp32
  train "$1_bf16" "$2" "$3" "$4" bf16 bf16
  python3 "$(dirname "$0")/checks.py" precision_tracks "$work/$1_fp32" "$work/$1_bf16" --tolerance 0.01 ||
    failures=$((failures + 1))
done
exit $failures
