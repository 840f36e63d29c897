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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$tessera" prepare --input "$corpus" --out "$work/data" --train-tokenizer --vocab-size 300 --val-fraction 0.5 \
  >"$work/prepare.log" 2>&1 || { echo "FAIL: prepare"; cat "$work/prepare.log"; exit 1; }
cat >"$work/run.toml" <<TOML
[model]
family = "gpt2"
n_layer = 2
d_model = 32
n_head = 4
seq_len = 16
vocab_size = 320
[data]
dir = "$work/data"
[train]
batch_size = 4
steps = 12
lr = 1e-2
eval_interval = 0
eval_batches = 1
[checkpoint]
every = 6
TOML
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

python3 - "$work" <<'PY' || failures=$((failures + 1))
import json, sys
work = sys.argv[1]
def metrics(name):
    r = json.load(open(f"{work}/{name}/results.json"))
    return {(m["ref"], t, k): (v["value"], v["stderr"]) for m in r["models"] for t, task in m["tasks"].items()
            for k, v in task["metrics"].items()}
def raw(name):  # the metric values as written, to compare bytes
    text = open(f"{work}/{name}/results.json").read()
    return [line.strip() for line in text.splitlines() if '"value"' in line or '"stderr"' in line]
bad = 0
base = metrics("np1")
assert len(base) == 2 * (3 + 2) * 1, sorted(base)  # 2 models x (3 perplexity + 2 cloze metrics)
for a, b in [("np1", "np2"), ("tp2", "dp2_tp2"), ("tasks_np1", "tasks_np2"), ("gen_np1", "gen_np2")]:
    if raw(a) != raw(b):
        print(f"FAIL: {a} and {b} differ:\n{raw(a)}\n{raw(b)}"); bad += 1
for key, (v, s) in metrics("tp2").items():
    if abs(v - base[key][0]) > 1e-5 * max(1.0, abs(base[key][0])):
        print(f"FAIL: tp2 {key} = {v}, tp1 {base[key][0]}"); bad += 1
for name in ["np1", "np2"]:
    samples = [json.loads(l) for l in open(f"{work}/{name}/samples.jsonl")]
    if not samples or {s["task"] for s in samples} != {"cloze"}:
        print(f"FAIL: {name}/samples.jsonl"); bad += 1
for a, b in [("np1", "np2"), ("gen_np1", "gen_np2")]:
    if open(f"{work}/{a}/samples.jsonl").read() != open(f"{work}/{b}/samples.jsonl").read():
        print(f"FAIL: samples differ between {a} and {b}"); bad += 1
gen = [json.loads(l) for l in open(f"{work}/gen_np1/samples.jsonl")]
if len(gen) != 2 * 5 or {s["task"] for s in gen} != {"generation"} or not any(s["output"] for s in gen):
    print(f"FAIL: gen_np1/samples.jsonl: {gen}"); bad += 1
gen_tp2 = [json.loads(l) for l in open(f"{work}/gen_tp2/samples.jsonl")]
if [s["output"] for s in gen] != [s["output"] for s in gen_tp2]:
    print("FAIL: generation outputs differ between tp 1 and tp 2"); bad += 1
report = open(f"{work}/np1/report.md").read()
for part in ["## val_perplexity", "## cloze", "model 2 - model 1", " ± "]:
    if part not in report:
        print(f"FAIL: report.md lacks {part!r}"); bad += 1
if "| exact_match |" not in open(f"{work}/gen_np2/report.md").read():
    print("FAIL: gen_np2/report.md lacks exact_match"); bad += 1
loss = base[(f"{work}/run", "val_perplexity", "mean_loss")][0]
early = base[(f"{work}/run:6", "val_perplexity", "mean_loss")][0]
print(f"val loss: step 12 {loss:.4f}, step 6 {early:.4f}")
sys.exit(1 if bad else 0)
PY

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
