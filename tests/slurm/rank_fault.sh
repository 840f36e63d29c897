#!/usr/bin/env bash
# A rank killed inside a Slurm job: the job ends at once (srun --kill-on-bad-exit) and requeues;
# the restarted job skips its newest checkpoint, corrupted meanwhile, with a warning, and resumes
# from the newest that verifies; killed again past the restart cap (1), it stays FAILED with the
# reason.
source "$(dirname "$0")/common.sh"
make_config 1000000
printf 'every = 40\n[parallel]\ntimeout_s = 5\n' >> "$work/run.toml"  # appended to [checkpoint]
id=$("$TESSERA" submit --config "$work/run.toml" --run-dir "$work/run" --ntasks-per-node 2 --max-restarts 1 2>/dev/null |
     head -1)
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id'"
log=$work/run/logs/slurm-$id.out

# Kills task 1 of the job's current run; waits until the job script has decided what follows.
kill_rank() {  # $1: the decision the log must show
  local pid victim=""
  for pid in $(pgrep -f "$TESSERA train --config $work/run.toml --run-dir $work/run"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx SLURM_PROCID=1 && victim=$pid
  done
  [ -n "$victim" ] || fail "no task 1 to kill"
  kill -9 "$victim"
  local start=$SECONDS
  for _ in $(seq 1 150); do grep -q "$1" "$log" && break; sleep 0.2; done
  grep -q "$1" "$log" || fail "no '$1' within 30 s of the kill"
  local elapsed=$((SECONDS - start))
  # Within the collective timeout (5 s; a checkpoint write: 5 s + twice the longest earlier write),
  # the 5 s grace before an abort, and a few seconds more on this loaded machine.
  [ "$elapsed" -le 25 ] || fail "the job took $elapsed s after the kill to end"
  echo "rank_fault: task 1 killed: '$1' $elapsed s later"
}

wait_steps "$work/run" 90
kill_rank "requeueing (restart 1 of 1)"
# The newest checkpoint goes bad before the job starts again (the cluster waits about 10 s).
newest=$(ls "$work/run/checkpoints/"step-*.h5 | sort | tail -1)
older=$(ls "$work/run/checkpoints/"step-*.h5 | sort | tail -2 | head -1)
[ "$newest" != "$older" ] || fail "fewer than two checkpoints"
printf 'corrupt' | dd of="$newest" bs=1 seek=4096 conv=notrunc status=none
for _ in $(seq 1 450); do grep -q "resuming from" "$log" && break; sleep 0.2; done
grep -q "checkpoint $newest is not usable, trying an older one" "$log" || fail "no warning for the corrupt $newest"
step=$(basename "$older" .h5); step=$((10#${step#step-}))
grep -q "resuming from .* at step $step\$" "$log" || fail "not resumed from $older: $(grep 'resuming from' "$log")"
wait_steps "$work/run" $((step + 30))
kill_rank "after 1 restart(s) (the cap is 1): giving up"
state=$(wait_done "$id" 60)
[ "$state" = FAILED ] || fail "job $id past its cap: $state"
[ "$(job_field "$id" Restarts)" = 1 ] || fail "restarts: $(job_field "$id" Restarts)"
echo "rank_fault: ok (job $id: requeued once, resumed at step $step past a corrupt checkpoint, then FAILED at the cap)"
