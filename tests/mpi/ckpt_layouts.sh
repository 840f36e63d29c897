#!/usr/bin/env bash
# Save at (dp, tp) = (2, 2) on 4 ranks (plain and ZeRO-1 moments), load at (1,1), (4,1), (1,4),
# (1,2) and (2,2), plain and ZeRO-1, and in one process without mpirun: every element must equal
# its source. Usage: ckpt_layouts.sh MPIEXEC CKPT_PROGRAM
set -euo pipefail
mpiexec=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { echo "+ $*"; "$@"; }
for save_zero in 0 1; do
  d=$dir/save$save_zero
  run "$mpiexec" --oversubscribe -np 4 "$prog" save "$d" 2 "$save_zero"
  for layout in "1 1" "4 1" "4 4" "2 2" "4 2"; do
    set -- $layout
    for load_zero in 0 1; do
      run "$mpiexec" --oversubscribe -np "$1" "$prog" load "$d" "$2" "$load_zero"
    done
  done
  run "$prog" load "$d" 1 0
done
echo "ckpt_layouts: all layouts loaded exactly"
