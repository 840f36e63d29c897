#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest: labels cpu, mpi, gpu,
# interop, slurm, bench). GPU tests skip cleanly on machines without a GPU (unless
# TESSERA_REQUIRE_GPU is set), interop tests without node or the npm registry (unless
# TESSERA_REQUIRE_INTEROP is set).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh "$@"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${TESSERA_BUILD_DIR:-build}" --output-on-failure --timeout 600
