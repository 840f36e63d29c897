#!/bin/sh
# Serving throughput of `tessera serve` and llama-server on the same GGUF weights, one after the
# other in one run, driven by the same client (`tessera bench serve`): one line per concurrency,
#   concurrency=C requests_s=N output_tok_s=N ttft_p50_ms=N ttft_p99_ms=N tpot_p50_ms=N tpot_p99_ms=N
# docs/benchmarks.md records the figures.
# Usage: serve_vs_llama_server.sh MODEL.gguf [LLAMA_BIN_DIR]
#   LLAMA_BIN_DIR: where llama-server is (default /work/llama-native/bin, see build_llama_native.sh).
# Env: THREADS (default 2), WEIGHTS (tessera's --weights, default f32), CONCURRENCY (default 1,4,16),
#      PROMPT (default 32), GEN (default 32), REQUESTS (default 32), PORT (default 8391; llama-server
#      takes PORT+1).
set -eu
model=${1:?usage: serve_vs_llama_server.sh MODEL.gguf [LLAMA_BIN_DIR]}
bin=${2:-/work/llama-native/bin}
here=$(cd "$(dirname "$0")/.." && pwd)
tessera=${TESSERA:-$here/build/tessera}
t=${THREADS:-2} c=${CONCURRENCY:-1,4,16} p=${PROMPT:-32} g=${GEN:-32} n=${REQUESTS:-32} port=${PORT:-8391}
slots=$(echo "$c" | tr ',' '\n' | sort -n | tail -1)
log=$(mktemp)
trap 'kill "$server" 2>/dev/null; rm -f "$log"' EXIT

# wait_ready: until GET /health answers 200 (the server has loaded the model).
wait_ready() {
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && return 0
    kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.5
  done
  echo "the server did not become ready"; exit 1
}

bench() {
  "$tessera" bench serve --url "http://127.0.0.1:$port" --concurrency "$c" --prompt-len "$p" --gen-len "$g" \
    --requests "$n" --model "$1" 2>&1 | grep "concurrency="
}

echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== tessera serve --weights ${WEIGHTS:-f32} ($t threads)"
OMP_NUM_THREADS=$t "$tessera" serve --model "$model" --port "$port" --weights "${WEIGHTS:-f32}" \
  --served-model-name m >"$log" 2>&1 &
server=$!
wait_ready
bench m
kill "$server"; wait "$server" 2>/dev/null || true

echo "== llama-server ($t threads, $slots slots)"
port=$((port + 1))  # the first server's socket may linger in TIME_WAIT
"$bin/llama-server" -m "$model" --host 127.0.0.1 --port "$port" -t "$t" -np "$slots" -c $((slots * (p + g + 16))) \
  --alias m >"$log" 2>&1 &
server=$!
wait_ready
bench m
kill "$server"; wait "$server" 2>/dev/null || true
echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
