#!/usr/bin/env bash
# SIGKILL of one of 4 training ranks mid-training ends the whole job promptly with a non-zero
# exit: no rank is left hanging in a collective.
# Usage: kill_rank.sh MPIEXEC TESSERA CONFIG
set -u
mpiexec=$1 tessera=$2 config=$3
work=$(mktemp -d)
trap 'rm -rf "$work"; kill -9 $job 2>/dev/null' EXIT

"$mpiexec" --oversubscribe -np 4 "$tessera" train --config "$config" --run-dir "$work/run" \
  --set train.steps=100000 --set train.batch_size=2 --set parallel.timeout_s=20 >"$work/log" 2>&1 &
job=$!

# Wait for training to run (metrics lines appear), then kill one rank that is not rank 0.
for _ in $(seq 1 300); do
  [ -s "$work/run/metrics.jsonl" ] && [ "$(wc -l <"$work/run/metrics.jsonl")" -ge 3 ] && break
  sleep 0.2
done
if ! [ -s "$work/run/metrics.jsonl" ]; then
  echo "FAIL: training did not start"; cat "$work/log"; exit 1
fi
victim=$(pgrep -f "$tessera train --config $config --run-dir $work/run" | sort -n | tail -1)
echo "killing rank process $victim"
kill -9 "$victim"
start=$(date +%s)
for _ in $(seq 1 600); do
  kill -0 $job 2>/dev/null || break
  sleep 0.1
done
elapsed=$(( $(date +%s) - start ))
if kill -0 $job 2>/dev/null; then
  echo "FAIL: the job still runs ${elapsed} s after a rank was killed"; tail -20 "$work/log"; exit 1
fi
wait $job
rc=$?
echo "job ended ${elapsed} s after the kill, exit $rc"
tail -3 "$work/log"
[ $rc -ne 0 ] && [ $elapsed -le 30 ]
