#!/usr/bin/env bash
# A stop signal ends training at a step boundary with a checkpoint, on every rank together:
#   1. SIGTERM to mpirun, which forwards it to every rank and, by default, SIGKILLs them 1 s later
#      (Open MPI's odls_base_sigkill_timeout): given 60 s here, as docs/training.md advises;
#   2. SIGUSR1 to one rank only (a Slurm `--signal` reaching one task first): the ranks agree.
# Each time: the job says which signal stopped it and after which step, exits non-zero (the ranks
# with 128 + the signal), the checkpoint of that step verifies, metrics.jsonl ends at it, and the same
# command resumes from it.
# Usage: stop_signal.sh MPIEXEC TESSERA CONFIG
set -u
mpiexec=$1 tessera=$2 config=$3
work=$(mktemp -d)
job=
trap 'rm -rf "$work"; [ -n "$job" ] && kill -9 $job 2>/dev/null' EXIT
fail() { echo "stop_signal: FAIL: $*" >&2; cat "$work/log" >&2; exit 1; }

start_job() {  # $1: run directory, $2: seconds mpirun waits between its SIGTERM and SIGKILL
  OMPI_MCA_odls_base_sigkill_timeout=$2 "$mpiexec" --oversubscribe -np 2 "$tessera" train --config "$config" --run-dir "$1" \
    --set train.steps=1000000 --set train.batch_size=2 >"$work/log" 2>&1 &
  job=$!
  for _ in $(seq 1 300); do
    [ -s "$1/metrics.jsonl" ] && [ "$(wc -l <"$1/metrics.jsonl")" -ge 3 ] && return 0
    sleep 0.2
  done
  fail "training did not start"
}

check_stopped() {  # $1: run directory, $2: signal name, $3: expected exit status (any non-zero: -)
  wait $job
  local rc=$?
  job=
  [ "$rc" -ne 0 ] || fail "exit status 0"
  [ "$3" = - ] || [ "$rc" -eq "$3" ] || fail "exit status $rc, expected $3"
  local line step
  line=$(grep "$2 received: stopping after step" "$work/log") || fail "no message naming $2"
  step=$(echo "$line" | head -1 | sed 's/.*stopping after step \([0-9]*\).*/\1/')
  [ "$(grep -c "received: stopping after step" "$work/log")" -eq 1 ] || fail "more than one rank printed the stop"
  [ -e "$1/checkpoints/$(printf 'step-%08d.h5' "$step")" ] || fail "no checkpoint of step $step"
  "$tessera" ckpt verify "$1" >/dev/null || fail "the checkpoints do not verify"
  [ "$(tail -1 "$1/metrics.jsonl" | sed 's/.*"step":\([0-9]*\).*/\1/')" = "$step" ] || fail "metrics do not end at $step"
  "$mpiexec" --oversubscribe -np 2 "$tessera" train --config "$config" --run-dir "$1" --set train.steps=1000000 \
    --set train.batch_size=2 --stop-after 1 >"$work/log" 2>&1 || fail "cannot resume"
  grep -q "at step $step\$" "$work/log" || fail "did not resume at step $step"
  echo "$2: stopped after step $step with a checkpoint; resumed from it"
}

start_job "$work/a" 60
kill -TERM $job
check_stopped "$work/a" SIGTERM -  # mpirun reports its own status

start_job "$work/b" 1
rank=$(pgrep -P $job -f "$tessera train" | sort -n | tail -1)
[ -n "$rank" ] || fail "no rank process found under mpirun"
kill -USR1 "$rank"
check_stopped "$work/b" SIGUSR1 138
echo "stop_signal: ok"
