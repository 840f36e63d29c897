#!/usr/bin/env bash
# The CUDA training step against the CPU one through `tessera train` (labels mpi, gpu): the same
# tiny config and seed on train.device = "cuda" and "cpu" give the same losses (within 1e-4
# relative) for 20 steps, on one rank and, over NCCL, on two data-parallel ranks (one GPU each:
# NCCL refuses two ranks on one GPU, so with fewer than two GPUs that part is a stated skip).
# Without a GPU the whole test skips (exit 77) unless TESSERA_REQUIRE_GPU is set.
# Usage: gpu_dp.sh MPIEXEC TESSERA CONFIG
set -u
mpiexec=$1 tessera=$2 config=$3
gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU" || true)
if [ "${gpus:-0}" -eq 0 ]; then
  [ -n "${TESSERA_REQUIRE_GPU:-}" ] && { echo "FAIL: no GPU visible, and TESSERA_REQUIRE_GPU is set"; exit 1; }
  echo "skipped: no GPU visible"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# run NAME RANKS DEVICE BATCH
run() {
  "$mpiexec" --oversubscribe -np "$2" "$tessera" train --config "$config" --run-dir "$work/$1" \
    --set train.device="$3" --set train.batch_size="$4" >"$work/$1.log" 2>&1 ||
    { echo "FAIL: $1 exited non-zero:"; tail -5 "$work/$1.log"; failures=$((failures + 1)); }
}
# compare REF GOT: the per-step losses of two runs.
compare() {
  python3 - "$work/$1/metrics.jsonl" "$work/$2/metrics.jsonl" "$2 vs $1" <<'PY' || failures=$((failures + 1))
import json, sys
ref = [json.loads(l)["loss"] for l in open(sys.argv[1]) if '"loss"' in l]
got = [json.loads(l)["loss"] for l in open(sys.argv[2]) if '"loss"' in l]
assert len(ref) == 20 and len(got) == 20, (len(ref), len(got))
worst = max(abs(a - b) / abs(a) for a, b in zip(ref, got))
print(f"{sys.argv[3]}: worst relative difference {worst:.2e} over 20 steps (losses {ref[0]:.4f} -> {ref[-1]:.4f})")
sys.exit(0 if worst <= 1e-4 and got[-1] < got[0] else 1)
PY
}

run cpu1 1 cpu 8
run cuda1 1 cuda 8
compare cpu1 cuda1
if [ "$gpus" -lt 2 ]; then
  echo "dp over NCCL skipped: $gpus GPU visible, two data-parallel ranks need one GPU each"
  [ "$failures" -eq 0 ] && exit 77
  exit "$failures"
fi
run cpu2 2 cpu 4
run cuda2 2 cuda 4
compare cpu2 cuda2
compare cuda1 cuda2
exit $failures
