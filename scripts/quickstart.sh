#!/usr/bin/env bash
# The main job on an embedded default: installs what is missing, builds, prepares Debian's fortunes
# as a token corpus on 2 MPI ranks (a byte-level BPE tokenizer trained on it, HDF5 shards, a
# manifest), trains the quickstart model on 2 MPI ranks (data parallel), checkpointing it to HDF5,
# then switches the same processes to serving and answers a JSONL batch of prompts
# (runs/quickstart/answers.jsonl), generates text from the checkpoint, and writes an evaluation
# report comparing two of its checkpoints (runs/quickstart/eval/report.md and report.html), serves
# the run over HTTP on loopback (the OpenAI-compatible API, 2 ranks): a curl line and an
# openai-client line run against it, then the server drains and stops; it ends with the paths of
# the evaluation report and of the run's monitoring page (runs/quickstart/report.html).
# Outputs go under data/ and runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
build=${TESSERA_BUILD_DIR:-build}  # as scripts/build.sh
tessera=$build/tessera

echo "== prepare: Debian's fortunes -> data/fortunes (2 ranks)"
mpirun --oversubscribe -np 2 "$tessera" prepare --input /usr/share/games/fortunes --format fortune \
  --out data/fortunes --train-tokenizer --vocab-size 4096 --mask-pii
echo "== a sentence through its tokenizer:"
echo "You will be successful in your work." | "$tessera" tokenizer encode --tokenizer data/fortunes/tokenizer.json

echo "== run: train configs/quickstart.toml on 2 ranks -> runs/quickstart (HDF5 checkpoints every 200 steps),"
echo "   then the same 2 processes serve configs/quickstart-prompts.jsonl from the weights in memory"
mpirun --oversubscribe -np 2 "$tessera" run --config configs/quickstart.toml --run-dir runs/quickstart --overwrite \
  --prompts configs/quickstart-prompts.jsonl
echo "== checkpoints:"
"$tessera" ckpt ls runs/quickstart
"$tessera" ckpt verify runs/quickstart
echo "== generate from the latest checkpoint (streamed as it is generated):"
"$tessera" generate --ckpt runs/quickstart --prompt "The best way to" --max-tokens 30
echo "== evaluate on 2 ranks: step 200 against step 600 (validation perplexity, a cloze task) -> runs/quickstart/eval"
mpirun --oversubscribe -np 2 "$tessera" eval --ckpt runs/quickstart:200 --ckpt runs/quickstart --max-items 200 \
  --report runs/quickstart/eval
cat runs/quickstart/eval/report.md

echo "== serve over HTTP: the run's serve phase on 2 ranks, an OpenAI-compatible API on loopback"
head -c 18 /dev/urandom | base64 >runs/quickstart/admin.key
mpirun --oversubscribe -np 2 "$tessera" run --config configs/quickstart.toml --run-dir runs/quickstart --phases serve \
  --serve-port 0 --served-model-name quickstart --admin-key-file runs/quickstart/admin.key >runs/quickstart/serve.log 2>&1 &
server=$!
port=""
for _ in $(seq 600); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' runs/quickstart/serve.log | head -1)
  [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
  kill -0 "$server" || { cat runs/quickstart/serve.log; exit 1; }
  sleep 0.2
done
base="http://127.0.0.1:$port/v1"
curl_line="curl -s $base/completions -H 'Content-Type: application/json' -d '{\"model\": \"quickstart\", \"prompt\": \"The best way to\", \"max_tokens\": 24}'"
echo "\$ $curl_line"
eval "$curl_line"
echo
if sh tests/interop/install_openai.sh "$build/interop" >/dev/null 2>&1; then
  client_line="NODE_PATH=$build/interop/node_modules node -e 'const OpenAI = require(\"openai\"); new OpenAI({baseURL: \"$base\", apiKey: \"none\"}).chat.completions.create({model: \"quickstart\", messages: [{role: \"user\", content: \"Tell me a fortune.\"}], max_tokens: 24}).then(r => console.log(r.choices[0].message.content))'"
  echo "\$ $client_line"
  eval "$client_line"
else
  echo "(node/npm unavailable: skipping the openai client line)"
fi
echo "== stopping the server (a drain: running requests finish)"
curl -s -d "" "http://127.0.0.1:$port/admin/stop" -H "Authorization: Bearer $(cat runs/quickstart/admin.key)" >/dev/null
wait "$server"
echo "server stopped"
"$tessera" report runs/quickstart >/dev/null
echo "== reports (self-contained HTML: open them in a browser, offline):"
echo "   evaluation report:    $(pwd)/runs/quickstart/eval/report.html"
echo "   run monitoring page:  $(pwd)/runs/quickstart/report.html"
