#!/usr/bin/env bash
# `tessera run` on 2 ranks (dp = 2) trains and then serves a JSONL batch from the same processes,
# with the weights in memory, both replicas answering their share of the lines; its greedy answers
# equal what `tessera generate` answers from the saved checkpoint in a fresh process, and the file
# equals byte for byte (input order) what a one-rank `tessera run --phases serve` writes. Bad lines
# are reported by number and the rest answered.
# Usage: run_phases.sh MPIEXEC TESSERA CORPUS
set -uo pipefail
mpiexec=$1 tessera=$2 corpus=$3
fail() { echo "run_phases: FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/../support/common.sh"
tiny_data "$tessera" "$corpus"
tiny_config 32 1 30
cat > "$work/prompts.jsonl" <<'JSONL'
{"custom_id": "a", "body": {"prompt": "The best way to", "max_tokens": 12}}
{"custom_id": "b", "body": {"prompt": "You will", "max_tokens": 20}}
{"custom_id": "c", "body": {"prompt": "It is", "max_tokens": 8, "stop": ["e"]}}
not json
JSONL
out=$("$mpiexec" --oversubscribe -np 2 "$tessera" run --config "$work/run.toml" --run-dir "$work/run" \
      --prompts "$work/prompts.jsonl" 2>&1)
rc=$?
echo "$out" | tail -n 6
[ "$rc" -ne 0 ] || fail "a bad prompt line did not make the job exit non-zero"
echo "$out" | grep -q "trained 30 steps" || fail "did not train"
echo "$out" | grep -q "serve: 3 answered" || fail "did not answer the 3 good prompts"
echo "$out" | grep -q "line 4: not JSON" || fail "the bad line was not reported by number"
echo "$out" | grep -q "replica 0 (ranks 0-0) answered 2 of its 2 lines" || fail "replica 0 did not answer lines 1 and 3"
echo "$out" | grep -q "replica 1 (ranks 1-1) answered 1 of its 2 lines" || fail "replica 1 did not answer line 2"
"$tessera" run --config "$work/run.toml" --run-dir "$work/run" --phases serve --prompts "$work/prompts.jsonl" \
  --answers "$work/one.jsonl" >/dev/null 2>&1
cmp "$work/run/answers.jsonl" "$work/one.jsonl" || fail "2 replicas wrote other bytes than one rank"
"$tessera" generate --ckpt "$work/run" --input "$work/prompts.jsonl" --output "$work/fresh.jsonl" >/dev/null 2>&1
texts() { sort "$1" | sed 's/"usage".*//'; }
diff <(texts "$work/run/answers.jsonl") <(texts "$work/fresh.jsonl") || fail "answers differ from a fresh process's"
echo "run_phases: ok"
