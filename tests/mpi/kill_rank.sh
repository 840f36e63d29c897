#!/usr/bin/env bash
# One of 4 training ranks (dp 2 x tp 2) fails mid-training; the whole job, mpirun included, ends
# promptly with a non-zero exit, a message naming the rank and its host, and no rank left behind:
#   kill: SIGKILL; mpirun sees its child die
#   stop: SIGSTOP; its group peers miss their collective deadline (timeout_s), name it and abort
# Usage: kill_rank.sh MPIEXEC TESSERA CONFIG
MPIEXEC=$1 tessera=$2 config=$3
source "$(dirname "$0")/common.sh"
timeout_s=5
host=$(hostname)

# $1: signal, $2: the most seconds from the signal to the job's end, $3: pattern the log must show
check() {
  local signal=$1 within=$2 pattern=$3 run=$work/run-$1 victim="" pid
  start_job "$MPIEXEC" --oversubscribe -np 4 "$tessera" train --config "$config" --run-dir "$run" \
    --set parallel.tp=2 --set train.steps=1000000 --set train.batch_size=2 --set parallel.timeout_s=$timeout_s
  wait_steps "$run" 3
  # The ranks are mpirun's children; the victim is world rank 3 (rank 1 shares its dp group).
  for pid in $(pgrep -P "$job"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=3 && victim=$pid
  done
  [ -n "$victim" ] || fail "no rank 3 among mpirun's children ($(pgrep -P "$job" | tr '\n' ' '))"
  kill -s "$signal" "$victim"
  wait_end 60
  [ "$rc" -ne 0 ] || fail "$signal: the job exited 0"
  [ "$elapsed" -le "$within" ] || fail "$signal: the job ended $elapsed s after the signal (at most $within)"
  grep -Eq "$pattern" "$work/log" || fail "$signal: no '$pattern' in the log"
  sleep 1
  if [ -e "/proc/$victim" ] && ! grep -q '^State:.*Z' "/proc/$victim/status"; then
    fail "$signal: rank 3 (pid $victim) outlived the job"
  fi
  echo "kill_rank: $signal: the job ended $elapsed s after the signal, exit $rc"
}

check KILL 10 "process rank 3 with PID [0-9]+ on node $host exited on signal 9"
# A peer waiting with rank 3 in a group of two names it alone; one waiting in a world collective
# (the per-step monitoring gather, when the stop lands there) lists every other rank, rank 3 among them.
check STOP $((timeout_s + 10)) "did not complete within $timeout_s.0 s: .*(failed|hung).*rank 3 on $host"
echo "kill_rank: ok"
