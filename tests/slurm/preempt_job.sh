#!/usr/bin/env bash
# Preemption: a job sent its warning signal (SIGUSR1) mid-training checkpoints, requeues itself,
# resumes and finishes; its losses equal an uninterrupted run's bit for bit.
source "$(dirname "$0")/common.sh"
make_config 12000 128  # about 25 s: signalled mid-run even when the poll below is slow to run
id=$("$TESSERA" submit --config "$work/run.toml" --run-dir "$work/run" --ntasks-per-node 2 2>/dev/null | head -1)
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id'"
wait_steps "$work/run" 100
# The warning signal, as Slurm sends it before a time limit; sent again if the step missed it.
for _ in 1 2 3; do
  scancel --signal=USR1 "$id" || fail "scancel failed"
  for _ in $(seq 1 20); do grep -q "SIGUSR1 received" "$work/run/logs/slurm-$id.out" 2>/dev/null && break 2; sleep 0.2; done
done
state=$(wait_done "$id" 240)
[ "$state" = COMPLETED ] || fail "job $id: $state"
[ "$(job_field "$id" Restarts)" = 1 ] || fail "restarts: $(job_field "$id" Restarts)"
log=$work/run/logs/slurm-$id.out
grep -q "SIGUSR1 received: stopping after step" "$log" || fail "no stop on SIGUSR1"
grep -q "requeueing (restart 1 of 3)" "$log" || fail "no requeue"
grep -q "resuming from .* at step" "$log" || fail "no resume"
# The same run without interruption, on 2 ranks.
mpirun --oversubscribe -np 2 "$TESSERA" train --config "$work/run.toml" --run-dir "$work/straight" >/dev/null 2>&1 ||
  fail "the uninterrupted run failed"
diff <(losses "$work/straight/metrics.jsonl") <(losses "$work/run/metrics.jsonl") >/dev/null ||
  fail "losses differ from the uninterrupted run"
[ "$(losses "$work/run/metrics.jsonl" | wc -l)" = 12000 ] || fail "metrics do not name 12000 steps once each"
echo "preempt_job: ok (job $id: stopped $(grep -o 'after step [0-9]*' "$log" | head -1), requeued, resumed, same losses)"
