#!/bin/sh
# Batch-1 decode and prompt tokens/s of tessera and llama.cpp on the same weights, in one run:
# the checkpoint exported to GGUF (f32 and q8_0), llama-bench on both, `tessera bench decode` with
# f32 and int8 weights. docs/benchmarks.md records the figures.
# Usage: decode_vs_llama_cpp.sh CKPT [LLAMA_BIN_DIR] [OUT_DIR]
#   CKPT: a checkpoint reference (its run's tokenizer goes into the GGUF);
#   LLAMA_BIN_DIR: where llama-bench is (default /work/llama-native/bin, see build_llama_native.sh).
# Env: THREADS (default 2), PROMPT (default 64), GEN (default 16), REPS (default 3).
set -eu
ckpt=${1:?usage: decode_vs_llama_cpp.sh CKPT [LLAMA_BIN_DIR] [OUT_DIR]}
bin=${2:-/work/llama-native/bin}
out=${3:-/tmp/decode-vs-llama}
here=$(cd "$(dirname "$0")/.." && pwd)
tessera=${TESSERA:-$here/build/tessera}
t=${THREADS:-2} p=${PROMPT:-64} g=${GEN:-16} reps=${REPS:-3}
mkdir -p "$out"
for dtype in f32 q8_0; do
  [ -f "$out/model-$dtype.gguf" ] || "$tessera" ckpt export-gguf "$ckpt" "$out/model-$dtype.gguf" --dtype "$dtype"
done
echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$reps"); do
  for dtype in f32 q8_0; do
    echo "== llama.cpp $dtype (round $round)"
    "$bin/llama-bench" -m "$out/model-$dtype.gguf" -t "$t" -p "$p" -n "$g" -r 1 -o md 2>/dev/null |
      grep -E "pp$p|tg$g"
  done
  for w in f32 int8; do
    echo "== tessera $w (round $round)"
    OMP_NUM_THREADS=$t "$tessera" bench decode --ckpt "$ckpt" --batch 1 --prompt-len "$p" --gen-len "$g" \
      --weights "$w" 2>&1 | grep -E "batch=|memory read"
  done
done
echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
