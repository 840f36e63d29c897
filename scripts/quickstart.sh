#!/usr/bin/env bash
# The main job on an embedded default: installs what is missing, builds, prepares Debian's fortunes
# as a token corpus on 2 MPI ranks (a byte-level BPE tokenizer trained on it, HDF5 shards, a
# manifest), trains the quickstart model on 2 MPI ranks (data parallel), checkpointing it to HDF5,
# then switches the same processes to serving and answers a JSONL batch of prompts
# (runs/quickstart/answers.jsonl), generates text from the checkpoint, and writes an evaluation
# report comparing two of its checkpoints (runs/quickstart/eval/report.md and report.html), and
# ends with the paths of that report and of the run's monitoring page (runs/quickstart/report.html).
# Outputs go under data/ and runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tessera=build/tessera

echo "== prepare: Debian's fortunes -> data/fortunes (2 ranks)"
mpirun --oversubscribe -np 2 "$tessera" prepare --input /usr/share/games/fortunes --format fortune \
  --out data/fortunes --train-tokenizer --vocab-size 4096
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
"$tessera" report runs/quickstart >/dev/null
echo "== reports (self-contained HTML: open them in a browser, offline):"
echo "   evaluation report:    $(pwd)/runs/quickstart/eval/report.html"
echo "   run monitoring page:  $(pwd)/runs/quickstart/report.html"
