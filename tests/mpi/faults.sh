#!/usr/bin/env bash
# A failing rank ends the whole MPI job promptly, with a non-zero exit and a message naming what
# failed: an error raised on rank 1, rank 1 hanging (peers time out after 3 s), rank 1 SIGKILLed.
# Usage: faults.sh MPIEXEC PROGRAM RANKS
set -u
mpiexec=$1 program=$2 ranks=$3
failures=0

# expect MODE STATUS(0|nonzero) PATTERN
expect() {
  local mode=$1 want=$2 pattern=$3 start end out rc
  start=$(date +%s)
  out=$(timeout 90 "$mpiexec" --oversubscribe -np "$ranks" "$program" "$mode" 2>&1)
  rc=$?
  end=$(date +%s)
  local ok=1
  if [ "$want" = 0 ] && [ $rc -ne 0 ]; then ok=0; fi
  if [ "$want" != 0 ] && { [ $rc -eq 0 ] || [ $rc -eq 124 ]; }; then ok=0; fi
  if ! grep -q -- "$pattern" <<<"$out"; then ok=0; fi
  if [ $((end - start)) -gt 60 ]; then ok=0; fi
  if [ $ok = 1 ]; then
    echo "ok: $mode: exit $rc after $((end - start)) s"
  else
    echo "FAIL: $mode: exit $rc after $((end - start)) s, expected '$pattern' in:"
    echo "$out" | tail -20
    failures=$((failures + 1))
  fi
}

expect none 0 "20 steps done"
expect throw nonzero "error \[rank 1\]: step 5: loss is NaN"
expect hang nonzero "all_reduce on group 'dp' (rank 0 of $ranks) did not complete within 3.0 s"
expect kill nonzero "signal 9"
exit $failures
