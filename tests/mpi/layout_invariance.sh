#!/usr/bin/env bash
# Layout invariance of training: the same seed and the same global batch give the same losses
# (within 1e-5 relative) for the first 20 steps whatever the layout (dp x tp ranks), the split of
# the global batch into micro-steps, with ZeRO-1 on or off, and the loss falls. Global batch: 8
# sequences of the small test corpus. llama runs use grouped-query attention (2 kv heads for the
# tiny config's 4 query heads), so tp = 4, which does not divide 2 kv heads, runs for gpt2 only.
# PRECISION bf16 (train.precision): the same layouts in bf16, and two more with the gradient sync
# in bf16 (parallel.sync_precision); bf16 rounds GEMM operands, so the last-bit differences of
# fp32 accumulation between layouts can move a value to the next bf16 number: the tolerance is
# 1e-3 relative (measured: up to 3.2e-5, with the bf16 sync).
# Usage: layout_invariance.sh MPIEXEC TESSERA CONFIG FAMILY CORPUS [PRECISION]
set -u
mpiexec=$1 tessera=$2 config=$3 family=$4 corpus=$5 precision=${6:-fp32}
tolerance=1e-5
[ "$precision" = bf16 ] && tolerance=1e-3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

"$tessera" prepare --input "$corpus" --out "$work/data" --train-tokenizer --vocab-size 320 --val-fraction 0.25 \
  >"$work/prepare.log" 2>&1 || { echo "FAIL: prepare"; cat "$work/prepare.log"; exit 1; }

kv_heads=0  # 0: as many as the query heads
[ "$family" = llama ] && kv_heads=2
# run NAME RANKS BATCH ACCUM ZERO TP SYNC_PRECISION
run() {
  local name=$1 ranks=$2 batch=$3 accum=$4 zero=${5:-false} tp=${6:-1} sync=${7:-fp32}
  [ "$name" = ref ] || names="$names $name"
  "$mpiexec" --oversubscribe -np "$ranks" "$tessera" train --config "$config" --run-dir "$work/$name" \
    --set model.family="$family" --set model.n_kv_head="$kv_heads" --set parallel.tp="$tp" \
    --set data.dir="$work/data" --set model.vocab_size=320 \
    --set train.eval_batches=1 --set train.batch_size="$batch" --set train.grad_accum="$accum" \
    --set parallel.zero="$zero" --set parallel.bucket_mb=0.01 --set parallel.overlap=true \
    --set train.precision="$precision" --set parallel.sync_precision="$sync" >"$work/$name.log" 2>&1 || { echo "FAIL: $name exited non-zero:"; tail -5 "$work/$name.log"; failures=$((failures + 1)); }
}

names=""  # every run but the reference, compared with it below
run ref 1 8 1
run dp2 2 4 1
run dp4 4 2 1
run accum4 1 2 4
run dp2_accum4 2 1 4
run dp2_zero 2 4 1 true
run dp4_zero 4 2 1 true
run dp2_accum4_zero 2 1 4 true
# (dp, tp) = (1, 2), (2, 2), (1, 4): NAME RANKS BATCH ACCUM ZERO TP
run tp2 2 8 1 false 2
run tp2_accum4 2 2 4 false 2
run dp2_tp2 4 4 1 false 2
run dp2_tp2_zero 4 4 1 true 2
run dp2_tp2_accum4_zero 4 1 4 true 2
if [ "$family" = gpt2 ]; then
  run tp4 4 8 1 false 4
  run tp4_accum4_zero 4 2 4 true 4
fi
if [ "$precision" = bf16 ]; then
  run dp2_sync_bf16 2 4 1 false 1 bf16
  run dp2_tp2_zero_sync_bf16 4 4 1 true 2 bf16
fi
for name in $names; do
  python3 "$(dirname "$0")/checks.py" losses_agree "$work/ref" "$work/$name" --tolerance "$tolerance" --lines 20 --falls ||
    failures=$((failures + 1))
done
exit $failures
