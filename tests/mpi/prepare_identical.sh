#!/usr/bin/env bash
# `tessera prepare` writes byte-identical outputs (shards, tokenizer.json, manifest.json) whatever
# the rank count: with a trained tokenizer, with a given one, and with every filter on.
# Usage: prepare_identical.sh TESSERA MPIRUN CORPUS_DIR
set -euo pipefail
tessera=$1
mpirun=$2
corpus=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prepare() {  # prepare RANKS OUT ARGS...
  local ranks=$1 out=$2
  shift 2
  if [[ $ranks == 1 ]]; then
    "$tessera" prepare --out "$out" "$@" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
  else
    "$mpirun" --oversubscribe -np "$ranks" "$tessera" prepare --out "$out" "$@" >"$out.log" 2>&1 ||
      { cat "$out.log"; exit 1; }
  fi
}

same() {  # same DIR_A DIR_B: the same file names, each byte-identical
  local a=$1 b=$2
  diff <(cd "$a" && ls) <(cd "$b" && ls) || { echo "FAIL: $a and $b hold different files"; exit 1; }
  for f in "$a"/*; do
    cmp "$f" "$b/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs between $a and $b"; exit 1; }
  done
  local shards
  shards=$(ls "$a" | grep -c '\.h5$')
  [[ $shards -ge 3 ]] || { echo "FAIL: expected several shards in $a, found $shards"; exit 1; }
  echo "identical: $(basename "$a") = $(basename "$b") ($(ls "$a" | wc -l) files)"
}

common=(--input "$corpus" --val-fraction 0.3 --seed 3 --shard-tokens 300)
prepare 1 "$work/trained_1" "${common[@]}" --train-tokenizer --vocab-size 320
prepare 2 "$work/trained_2" "${common[@]}" --train-tokenizer --vocab-size 320
prepare 3 "$work/trained_3" "${common[@]}" --train-tokenizer --vocab-size 320
same "$work/trained_1" "$work/trained_2"
same "$work/trained_1" "$work/trained_3"

tokenizer="$work/tokenizer.json"
cp "$work/trained_1/tokenizer.json" "$tokenizer"
prepare 1 "$work/given_1" "${common[@]}" --tokenizer "$tokenizer"
prepare 2 "$work/given_2" "${common[@]}" --tokenizer "$tokenizer"
same "$work/given_1" "$work/given_2"

filters=(--mask-pii --min-chars 20 --max-non-text 0.3 --near-dedup 0.5 --shingle-words 2)
prepare 1 "$work/filtered_1" "${common[@]}" --tokenizer "$tokenizer" "${filters[@]}"
prepare 2 "$work/filtered_2" "${common[@]}" --tokenizer "$tokenizer" "${filters[@]}"
same "$work/filtered_1" "$work/filtered_2"

# A larger corpus, when installed (Debian's fortunes: about 2.5 MB in 43 files).
if [[ -d /usr/share/games/fortunes ]]; then
  big=(--input /usr/share/games/fortunes --shard-tokens 200000 --tokenizer "$tokenizer")
  prepare 1 "$work/fortunes_1" "${big[@]}" --mask-pii --near-dedup 0.8
  prepare 2 "$work/fortunes_2" "${big[@]}" --mask-pii --near-dedup 0.8
  same "$work/fortunes_1" "$work/fortunes_2"
fi
echo "PASS"
