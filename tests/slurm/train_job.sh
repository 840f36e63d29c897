#!/usr/bin/env bash
# `tessera submit` of a 2-task training job on the local cluster completes, marks its run
# complete and leaves a checkpoint that verifies; `tessera jobs` shows it with the run's step.
source "$(dirname "$0")/common.sh"
make_config 40
id=$("$TESSERA" submit --config "$work/run.toml" --run-dir "$work/run" --ntasks-per-node 2 2>/dev/null | head -1)
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id'"
state=$(wait_done "$id" 120)
[ "$state" = COMPLETED ] || fail "job $id: $state"
[ -e "$work/run/complete" ] || fail "no completion marker"
"$TESSERA" ckpt verify "$work/run" >/dev/null || fail "the checkpoints do not verify"
grep -q "2 rank(s): dp 2 x tp 1" "$work/run/logs/slurm-$id.out" || fail "not 2 ranks"
out=$("$TESSERA" jobs 2>&1) || fail "tessera jobs failed: $out"
echo "$out" | grep -E "^ *$id .*COMPLETED \(run done\).* 40/40 " >/dev/null || fail "tessera jobs: $out"
echo "train_job: ok (job $id)"
