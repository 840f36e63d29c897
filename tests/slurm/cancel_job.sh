#!/usr/bin/env bash
# `tessera cancel` ends a running job without a requeue, its ranks checkpointing on SIGTERM first;
# a job whose rank dies is not requeued past its cap and fails with the reason; `tessera jobs`
# without a controller says so.
source "$(dirname "$0")/common.sh"
make_config 1000000
id=$("$TESSERA" submit --config "$work/run.toml" --run-dir "$work/run" --ntasks-per-node 2 2>/dev/null | head -1)
wait_steps "$work/run" 50
out=$("$TESSERA" jobs) || fail "tessera jobs: $out"
echo "$out" | grep -E "^ *$id +tessera-train-run +RUNNING" >/dev/null || fail "tessera jobs does not show job $id running: $out"
"$TESSERA" cancel "$id" || fail "tessera cancel failed"
state=$(wait_done "$id" 90)
[ "$state" = CANCELLED ] || fail "job $id after cancel: $state"
[ "$(job_field "$id" Restarts)" = 0 ] || fail "a cancelled job was requeued"
grep -q "SIGTERM received: stopping after step" "$work/run/logs/slurm-$id.out" || fail "the ranks did not stop on SIGTERM"
ls "$work/run/checkpoints/"step-*.h5 >/dev/null 2>&1 || fail "no checkpoint from the cancel"

# A rank killed with no restarts left: the job fails, naming why.
id=$("$TESSERA" submit --config "$work/run.toml" --run-dir "$work/dies" --ntasks-per-node 2 --max-restarts 0 2>/dev/null | head -1)
wait_steps "$work/dies" 20
pkill -9 -f -n "$TESSERA train --config $work/run.toml --run-dir $work/dies" || fail "no rank to kill"
state=$(wait_done "$id" 90)
[ "$state" = FAILED ] || fail "job $id with a dead rank: $state"
grep -q "after 0 restart(s) (the cap is 0): giving up" "$work/dies/logs/slurm-$id.out" || fail "no reason given"

sed 's/^SlurmctldPort=.*/SlurmctldPort=1/' "$SLURM_CONF" > "$work/dead.conf"
out=$(SLURM_CONF=$work/dead.conf timeout 60 "$TESSERA" jobs 2>&1) && fail "tessera jobs with no controller exited 0"
echo "$out" | grep -q "Unable to contact slurm controller" || fail "unclear error without a controller: $out"
out=$(SLURM_CONF=$work/none.conf timeout 60 "$TESSERA" jobs 2>&1) && fail "tessera jobs with no config exited 0"
echo "$out" | grep -q "no Slurm configuration" || fail "unclear error without a config: $out"
echo "cancel_job: ok"
