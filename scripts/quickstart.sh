#!/usr/bin/env bash
# The main job on an embedded default: installs what is missing, builds, and prepares Debian's
# fortunes as a token corpus on 2 MPI ranks (a byte-level BPE tokenizer trained on it, HDF5
# shards, a manifest). Outputs go under data/ and runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tessera=build/tessera

echo "== prepare: Debian's fortunes -> data/fortunes (2 ranks)"
mpirun --oversubscribe -np 2 "$tessera" prepare --input /usr/share/games/fortunes --format fortune \
  --out data/fortunes --train-tokenizer --vocab-size 4096
echo "== corpus ready: data/fortunes/manifest.json"
echo "== a sentence through its tokenizer:"
echo "You will be successful in your work." | "$tessera" tokenizer encode --tokenizer data/fortunes/tokenizer.json
