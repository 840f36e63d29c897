#!/usr/bin/env bash
# Installs the Debian packages Tessera needs. Idempotent and quiet; fast when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  openmpi-bin libopenmpi-dev                # MPI: ranks, collectives on CPU
  libhdf5-openmpi-dev hdf5-tools            # parallel HDF5: token shards, checkpoints
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libfmt-dev libpcre2-dev libssl-dev
  libdnnl-dev                               # CPU GEMM (oneDNN sgemm)
  libcpp-httplib-dev                        # the HTTP server (tessera serve)
  libgtest-dev libgmock-dev libbenchmark-dev
  libslurm-dev slurmctld slurmd slurm-client munge  # Slurm: libslurm, and the local test cluster
  iproute2 util-linux                       # ip netns, nsenter, unshare: two hosts on one machine (tests)
  python3 curl                              # test checkers and the HTTP tests' client
  fortunes                                  # the quickstart corpus
  chromium                                  # headless browser: the tests open the HTML reports
  nodejs                                    # the interop tests: llama.cpp through node-llama-cpp
  python3-torch                             # the PyTorch peer of the training benchmarks (shared/peers)
)
# npm: Debian's package, unless the installed node brings its own (NodeSource's does).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
