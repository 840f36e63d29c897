#!/usr/bin/env bash
# Crash safety: a rank SIGKILLed between writing a checkpoint and its rename, and ranks killed at
# random moments of a save loop, must leave `latest` naming a checkpoint that verifies and loads.
# Corrupting the newest checkpoint makes resume fall back to an older one, with a warning.
# Usage: ckpt_crash.sh MPIEXEC CKPT_PROGRAM TESSERA
set -uo pipefail
mpiexec=$1 prog=$2 tessera=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "ckpt_crash: FAIL: $*" >&2; exit 1; }

# 1. Killed after the temporary file is complete, before the rename.
"$mpiexec" --oversubscribe -np 2 "$prog" crash "$dir/a" && fail "the crash run exited 0"
[ "$(cat "$dir/a/checkpoints/latest")" = step-00000001.h5 ] || fail "latest is '$(cat "$dir/a/checkpoints/latest")'"
[ -e "$dir/a/checkpoints/step-00000002.h5" ] && fail "step 2 was committed"
"$tessera" ckpt verify "$dir/a" || fail "latest does not verify"
"$mpiexec" --oversubscribe -np 2 "$prog" resume "$dir/a" || fail "cannot resume after the crash"

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
echo "ckpt_crash: ok"
