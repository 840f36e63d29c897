#!/usr/bin/env bash
# tessera eval gives the same metrics at any rank count: a tiny model trained on the test corpus
# and its earlier checkpoint evaluated side by side (validation perplexity, the built-in cloze
# task, a task file) on 1 rank, 2 ranks (dp 2), 2 ranks at tp 2 and 4 ranks (dp 2 x tp 2). Metric
# values in results.json are byte-identical across dp at one tp, and within 1e-5 relative between
# tp 1 and tp 2; a generation task's outputs (samples.jsonl) and metrics are identical on 1 and 2
# ranks, and at tp 2. Bad input ends every rank with a clear message.
# Usage: eval_identical.sh MPIEXEC TESSERA CORPUS GENERATION_TASK
set -u
mpiexec=$1 tessera=$2 corpus=$3 generation=$4
. "$(dirname "$0")/../support/common.sh"
tiny_data "$tessera" "$corpus" --val-fraction 0.5
tiny_config 16 4 12 "[checkpoint]
every = 6"
"$tessera" train --config "$work/run.toml" --run-dir "$work/run" >"$work/train.log" 2>&1 ||
  { echo "FAIL: train"; cat "$work/train.log"; exit 1; }
cat >"$work/tasks.jsonl" <<'JSONL'
{"context": "Validation data must never", "choices": [" leak into training.", " be eaten.", " fly"], "label": 0}
{"context": "Shards are files", "choices": [" of tokens.", " of cats."], "label": 0}
JSONL

# evaluate NAME RANKS TP [EXTRA...]
evaluate() {
  local name=$1 ranks=$2 tp=$3
  shift 3
  "$mpiexec" --oversubscribe -np "$ranks" "$tessera" eval --ckpt "$work/run" --ckpt "$work/run:6" --tp "$tp" \
    --batch-size 3 --report "$work/$name" "$@" >"$work/$name.log" 2>&1 || { fail "$name exited non-zero:"; tail -5 "$work/$name.log"; }
}
evaluate np1 1 1
evaluate np2 2 1
evaluate tp2 2 2
evaluate dp2_tp2 4 2
evaluate tasks_np1 1 1 --tasks "$work/tasks.jsonl"
evaluate tasks_np2 2 1 --tasks "$work/tasks.jsonl"
# Batch size 3 over 5 items: chunks of 3 and 2, one on each of 2 ranks.
evaluate gen_np1 1 1 --tasks "$generation"
evaluate gen_np2 2 1 --tasks "$generation"
evaluate gen_tp2 2 2 --tasks "$generation"

python3 "$(dirname "$0")/checks.py" eval_identical "$work" || failures=$((failures + 1))

# Bad input: every rank stops with a clear message, nothing hangs.
expect_error() {
  local name=$1 message=$2
  shift 2
  if "$mpiexec" --oversubscribe -np 2 "$tessera" eval --report "$work/$name" "$@" >"$work/$name.log" 2>&1; then
    fail "$name succeeded"
  elif ! grep -q "$message" "$work/$name.log"; then
    fail "$name: no '$message' in:"; cat "$work/$name.log"
  fi
}
expect_error unknown_ckpt "nowhere" --ckpt "$work/nowhere"
printf '{"context": "a", "choices": [" b"], "label": 0}\n{"context": 3}\n' >"$work/bad.jsonl"
expect_error bad_task "bad.jsonl:2" --ckpt "$work/run" --tasks "$work/bad.jsonl"
mv "$work/data" "$work/data.moved"
expect_error missing_data "no prepared data" --ckpt "$work/run"

[ "$failures" -eq 0 ] && echo "eval results identical across layouts" || exit 1
