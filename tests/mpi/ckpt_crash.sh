#!/usr/bin/env bash
# Crash safety: a rank SIGKILLed at every moment of a save, and ranks killed at random moments of a
# save loop, must leave the newest checkpoint that verifies loadable, and never lose a valid one.
# Corrupting the newest checkpoint makes resume fall back to an older one, with a warning.
# Usage: ckpt_crash.sh MPIEXEC CKPT_PROGRAM TESSERA
set -uo pipefail
mpiexec=$1 prog=$2 tessera=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "ckpt_crash: FAIL: $*" >&2; exit 1; }

# 1. Killed at each moment of a save: before the temporary file, with its data written, complete
# and synced, with its digest stored, after the rename, after `latest` moved. The newest checkpoint
# that verifies is resumed from (step 2 once it is renamed, else step 1) and step 1 is never lost.
for point in begin written synced digest_stored renamed pointed; do
  d=$dir/crash-$point
  "$mpiexec" --oversubscribe -np 2 "$prog" crash "$d" "$point" && fail "the crash run at $point exited 0"
  case $point in renamed|pointed) want=step-00000002.h5 ;; *) want=step-00000001.h5 ;; esac
  [ -e "$d/checkpoints/step-00000001.h5" ] || fail "step 1 was lost by a crash at $point"
  "$tessera" ckpt verify "$d/checkpoints/step-00000001.h5" >/dev/null || fail "step 1 does not verify after $point"
  out=$("$mpiexec" --oversubscribe -np 2 "$prog" resume "$d" 2>&1) || fail "cannot resume after a crash at $point: $out"
  echo "$out" | grep -q "from $want" || fail "after a crash at $point, did not resume from $want: $out"
  echo "crash at $point: resumed from $want"
done
[ -e "$dir/crash-synced/checkpoints/step-00000002.h5" ] && fail "step 2 was committed before its rename"

# 2. Killed at random moments while saving (bigger tensors: the write takes a while).
for delay in 0.7 1.3 2.1; do
  d=$dir/loop$delay
  "$mpiexec" --oversubscribe -np 2 "$prog" loop "$d" 1000 64 &
  launcher=$!
  sleep "$delay"
  victim=$(pgrep -P "$launcher" | tail -n 1)
  [ -n "$victim" ] && kill -9 "$victim"
  wait "$launcher" && fail "the killed loop exited 0"
  if [ -e "$d/checkpoints/latest" ]; then
    "$tessera" ckpt verify "$d" || fail "latest does not verify after a kill at ${delay}s"
    "$mpiexec" --oversubscribe -np 2 "$prog" resume "$d" 64 || fail "cannot resume after a kill at ${delay}s"
  fi
done

# 3. The newest checkpoint damaged: verify says so, resume falls back to the older one, with a warning.
d=$dir/c
"$mpiexec" --oversubscribe -np 2 "$prog" loop "$d" 3 64 || fail "the save loop failed"
truncate -s 4096 "$d/checkpoints/step-00000003.h5"
"$tessera" ckpt verify "$d" && fail "a truncated checkpoint verifies"
out=$("$mpiexec" --oversubscribe -np 2 "$prog" resume "$d" 64 2>&1) || fail "resume did not fall back: $out"
echo "$out"
echo "$out" | grep -q "step-00000003.h5 is not usable, trying an older one" || fail "no warning about the damaged checkpoint"
echo "$out" | grep -q "resume at dp 2 x tp 1 from step-00000002.h5" || fail "did not resume from step 2"
[ -e "$d/checkpoints/quarantine/step-00000003.h5" ] || fail "the damaged checkpoint was not moved to quarantine/"
"$tessera" ckpt verify "$d" || fail "the run does not verify once the damaged file is set aside"
echo "ckpt_crash: ok"
