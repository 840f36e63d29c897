#!/usr/bin/env bash
# The file digest beside each checkpoint (a hash list over byte ranges) is the same computation on
# any number of ranks: checkpoints saved on 1, 2 and 4 ranks record the same dataset digests, and
# each verifies on 1 (without mpirun), 2 and 4 ranks. A byte flipped in the first range, a middle
# one or the last, or a truncated file, is refused on every rank count with an error naming the
# file and the damaged range.
# Usage: ckpt_digest.sh MPIEXEC CKPT_PROGRAM TESSERA
set -uo pipefail
mpiexec=$1 prog=$2 tessera=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "ckpt_digest: FAIL: $*" >&2; exit 1; }
on() {  # on N COMMAND...: run COMMAND on N ranks (one: without mpirun)
  local n=$1
  shift
  if [ "$n" = 1 ]; then "$@"; else "$mpiexec" --oversubscribe -np "$n" "$@"; fi
}
file() { echo "$dir/s$1/checkpoints/step-00000001.h5"; }
flip() {  # flip FILE OFFSET: one byte changed in place
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 90)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
range_of() {  # range_of DIGEST_FILE OFFSET: how the error names the range holding that byte
  awk -v at="$2" 'NR > 1 && $1 != "top" && at >= $2 && at < $2 + $3 { print "the " $3 " bytes at offset " $2 " (" $4 ")" }' "$1"
}

for n in 1 2 4; do
  on "$n" "$prog" loop "$dir/s$n" 1 16 > /dev/null || fail "cannot save on $n ranks"
done
datasets() { grep ' /' "$(file "$1").sha256" | cut -d' ' -f1,4 | sort -k2; }  # digest and label
[ -n "$(datasets 1)" ] || fail "no dataset ranges in $(file 1).sha256"
[ "$(datasets 1)" = "$(datasets 2)" ] && [ "$(datasets 1)" = "$(datasets 4)" ] ||
  fail "the dataset digests differ between saves on 1, 2 and 4 ranks"
for s in 1 2 4; do
  for n in 1 2 4; do
    on "$n" "$tessera" ckpt verify "$(file "$s")" > /dev/null || fail "saved on $s ranks, does not verify on $n"
  done
done

f=$(file 4)
cp "$f" "$dir/original"
size=$(stat -c %s "$f")
middle=$(awk '/ \/optim\/m\// { n++; if (n == 2) print $2 + int($3 / 2) }' "$f.sha256")
for at in 0 "$middle" $((size - 1)); do
  expected="$f: $(range_of "$f.sha256" "$at") do not match the SHA-256 recorded in $f.sha256"
  flip "$f" "$at"
  for n in 1 2 4; do
    out=$(on "$n" "$tessera" ckpt verify "$f" 2>&1) && fail "a byte flipped at $at verifies on $n ranks"
    grep -qF "$expected" <<< "$out" || fail "byte $at on $n ranks: expected '$expected', got: $out"
  done
  cp "$dir/original" "$f"
done
truncate -s $((size - 100)) "$f"
for n in 1 2 4; do
  out=$(on "$n" "$tessera" ckpt verify "$f" 2>&1) && fail "a truncated file verifies on $n ranks"
  grep -qF "$f has $((size - 100)) bytes where its digest file $f.sha256 records $size" <<< "$out" ||
    fail "truncated, on $n ranks: $out"
done
echo "ckpt_digest: the same digests on 1, 2 and 4 ranks; damage refused on each"
