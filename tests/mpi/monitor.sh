#!/usr/bin/env bash
# Run monitoring on 2 real ranks with injected faults (TESSERA_TEST_SLOW, train/test_hooks.h):
#   A: rank 1 sleeps 100 ms in every step: a straggler, rank 1, in the log and metrics.jsonl;
#      rank_step_s shows it busier than rank 0.
#   B: `tessera run --phases train,eval`, rank 0 sleeps 2 s in step 31: the watchdog logs the hung
#      step while it runs, metrics.jsonl records it for rank 0 (busy) and the interval's throughput
#      drop; metrics.prom holds the final step and the counts; the run page lists the events; the
#      eval phase's in-memory results equal `tessera eval` of the saved checkpoint in a fresh process.
# Usage: monitor.sh MPIEXEC TESSERA CORPUS
set -u
mpiexec=$1 tessera=$2 corpus=$3
. "$(dirname "$0")/../support/common.sh"
tiny_data "$tessera" "$corpus" --val-fraction 0.5
tiny_config 16 2 40 "[monitor]
interval = 5
hang_factor = 5
hang_min_s = 0.5"

TESSERA_TEST_SLOW=1:1:40:0.1 "$mpiexec" --oversubscribe -np 2 "$tessera" train --no-samples --config "$work/run.toml" \
  --run-dir "$work/a" >"$work/a.log" 2>&1 || { fail "run A exited non-zero"; tail -5 "$work/a.log"; }
grep -q "monitoring: $work/a/report.html" "$work/a.log" || fail "run A did not print its monitoring page's path"
grep -q "anomaly at step [0-9]* on rank 1: straggler" "$work/a.log" || fail "run A logged no straggler on rank 1"

TESSERA_TEST_SLOW=0:31:31:2 "$mpiexec" --oversubscribe -np 2 "$tessera" run --config "$work/run.toml" \
  --run-dir "$work/b" --phases train,eval --eval-max-items 8 >"$work/b.log" 2>&1 ||
  { fail "run B exited non-zero"; tail -5 "$work/b.log"; }
grep -q "step 31 has run [0-9.]* s on rank 0" "$work/b.log" || fail "the watchdog did not log the hung step 31 on rank 0"
"$tessera" eval --ckpt "$work/b" --max-items 8 --report "$work/fresh" >"$work/fresh.log" 2>&1 ||
  { fail "eval of the saved checkpoint failed"; tail -5 "$work/fresh.log"; }

python3 "$(dirname "$0")/checks.py" monitor "$work" || failures=$((failures + 1))
[ "$failures" -eq 0 ] && echo "monitor: ok" || { echo "monitor: $failures failure(s)"; tail -n 20 "$work/b.log"; exit 1; }
