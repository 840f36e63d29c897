# Shared by the shell tests that train a tiny model (sourced): prepared data and a run config.

# Unless the test set them before: $work, a temporary directory removed at exit, and
# fail MESSAGE, which prints the failure and counts it in $failures.
if [ -z "${work:-}" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
failures=${failures:-0}
declare -F fail >/dev/null || fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# tiny_data TESSERA CORPUS [PREPARE OPTIONS...]: the corpus prepared into $work/data with a
# byte-level BPE of 300 tokens; ends the test, printing prepare's log, when it fails.
tiny_data() {
  local tessera=$1 corpus=$2
  shift 2
  "$tessera" prepare --input "$corpus" --out "$work/data" --train-tokenizer --vocab-size 300 "$@" \
    >"$work/prepare.log" 2>&1 || { echo "FAIL: prepare" >&2; cat "$work/prepare.log" >&2; exit 1; }
}

# tiny_config SEQ_LEN BATCH STEPS [EXTRA] [D_MODEL]: $work/run.toml, a 2-layer gpt2 (d_model 32
# unless D_MODEL, 4 heads, vocabulary 320) on $work/data, trained at lr 1e-2 without evaluation.
# EXTRA (TOML lines) follows the [train] keys: more of them, then other sections.
tiny_config() {
  cat >"$work/run.toml" <<CONF
[model]
n_layer = 2
d_model = ${5:-32}
n_head = 4
seq_len = $1
vocab_size = 320
[data]
dir = "$work/data"
[train]
batch_size = $2
steps = $3
lr = 1e-2
eval_interval = 0
eval_batches = 1
${4:-}
CONF
}
