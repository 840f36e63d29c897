#!/usr/bin/env bash
# The GPU check: one script for one GPU machine (an H200; under 8 minutes). It builds Tessera with
# CUDA (sm_90 unless CUDA_ARCH says otherwise), runs the gpu-labelled tests (every CUDA op and the
# CUDA training step against the CPU reference, dp over NCCL where there are GPUs for it; they fail
# rather than skip when a GPU is expected), then the training benchmark on the GPU for the GPT-2
# 124M and 350M shapes (tokens/s, MFU against 989 TFLOP/s dense bf16) beside the CPU reference
# step, the PyTorch peer where it can run on CUDA, and ends with one summary table.
#
#   scripts/gpu-check.sh            on a machine set up by scripts/setup.sh
#   scripts/gpu-deps.sh             on a Debian machine with apt, before going to a GPU machine
#                                   without a package registry: fills .gpu-deps/, which this
#                                   script unpacks into a prefix of its own and builds against
#
# Logs go to $OUT when it is set (the device tool's output folder), else to the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-$root/build-gpu}
logs=${OUT:-$build}
mkdir -p "$build" "$logs"
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }

# Packages carried as .deb files: unpacked (never into /) and put on every search path.
cmake_deps=()
if [ -d .gpu-deps ] && ls .gpu-deps/*.deb >/dev/null 2>&1; then
  prefix=/tmp/tessera-deps
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for deb in .gpu-deps/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
  arch=x86_64-linux-gnu
  lib=$prefix/usr/lib/$arch
  export PATH=$prefix/usr/bin:$PATH
  # dpkg's alternatives would have made this link
  ln -sf libpsm_infinipath.so.1.16 "$prefix/usr/lib/libpsm1/libpsm_infinipath.so.1"
  export LD_LIBRARY_PATH=$lib:$prefix/lib/$arch:$lib/openmpi/lib:$lib/hdf5/openmpi:$prefix/usr/lib/libpsm1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CPATH=$prefix/usr/include/$arch${CPATH:+:$CPATH}  # Debian's per-architecture headers
  export PKG_CONFIG_PATH=$lib/pkgconfig:$prefix/usr/share/pkgconfig
  export PKG_CONFIG_SYSROOT_DIR=$prefix PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
  # Open MPI and HDF5 without their compiler wrappers, which name /usr paths.
  cmake_deps=(
    -DCMAKE_PREFIX_PATH="$prefix/usr"
    -DCMAKE_INCLUDE_PATH="$prefix/usr/include"
    -DMPI_C_COMPILER=MPI_C_COMPILER-NOTFOUND -DMPI_CXX_COMPILER=MPI_CXX_COMPILER-NOTFOUND
    -DMPI_C_HEADER_DIR="$lib/openmpi/include" -DMPI_CXX_HEADER_DIR="$lib/openmpi/include"
    -DMPI_CXX_SKIP_MPICXX=ON -DMPI_C_LIB_NAMES=mpi -DMPI_CXX_LIB_NAMES=mpi -DMPI_mpi_LIBRARY="$lib/openmpi/lib/libmpi.so"
    -DHDF5_C_COMPILER_EXECUTABLE=HDF5_C_COMPILER_EXECUTABLE-NOTFOUND
    -DHDF5_C_INCLUDE_DIR="$prefix/usr/include/hdf5/openmpi"
    -DHDF5_hdf5_LIBRARY_RELEASE="$lib/hdf5/openmpi/libhdf5.so"
  )
  echo "gpu-check: unpacked $(ls .gpu-deps/*.deb | wc -l) carried packages into $prefix ($(elapsed) s)"
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$logs/gpu.txt" 2>&1 ||
  echo "none visible (nvidia-smi failed)" >"$logs/gpu.txt"
echo "gpu-check: GPU: $(head -1 "$logs/gpu.txt")"

echo "gpu-check: configuring and building in $build"
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTESSERA_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" "${cmake_deps[@]}" >"$logs/configure.log" 2>&1 ||
  { tail -40 "$logs/configure.log"; exit 1; }
gpu_tests=$(cd tests/unit && ls */gpu_*_test.cpp | xargs -n1 basename | sed 's/\.cpp$//')
cmake --build "$build" -j "$(nproc)" --target tessera $gpu_tests >"$logs/build.log" 2>&1 ||
  { grep -E "error|Error" "$logs/build.log" | head -40; exit 1; }
echo "gpu-check: built in $(elapsed) s"

# The gpu tests: a visible GPU makes a skip a failure.
export TESSERA_REQUIRE_GPU=1
set +e
ctest --test-dir "$build" -L gpu --output-on-failure >"$logs/gpu-tests.log" 2>&1
tests_rc=$?
set -e
tests_line=$(grep -E "tests passed|tests failed" "$logs/gpu-tests.log" | tail -1)
echo "gpu-check: gpu tests: $tests_line ($(elapsed) s)"
[ "$tests_rc" -eq 0 ] || grep -E "Failure|FAILED|Expected|Which is|error" "$logs/gpu-tests.log" | head -40

# The training benchmark (the CPU step of the reference shape, on this machine's cores).
"$build/tessera" bench train --config configs/bench-cpu.toml --steps 6 >"$logs/bench-train.log" 2>&1
bench_line=$(tail -1 "$logs/bench-train.log")

# The CUDA training step, bf16, for the two GPT-2 shapes: "tokens/s=... tflops=... mfu=..." (MFU
# against --peak-tflops, 989 by default). A shape that fails or runs out of time says so.
gpu_bench() {  # NAME -> the result line
  local log="$logs/bench-train-gpu-$1.log"
  timeout 150 "$build/tessera" bench train --config "configs/bench-gpu-$1.toml" --steps 6 >"$log" 2>&1 ||
    { echo "failed (exit $?): $(tail -1 "$log")"; return; }
  grep -o "tokens/s=.*" "$log" | tail -1
}
gpu_124m=$(gpu_bench 124m)
echo "gpu-check: bench train 124M: $gpu_124m ($(elapsed) s)"
gpu_350m=$(gpu_bench 350m)
echo "gpu-check: bench train 350M: $gpu_350m ($(elapsed) s)"

# The PyTorch peer on the same GPU, when the peer script can run on CUDA (it takes --device).
peer=${TORCH_PEER:-/work/shared/peers/torch_gpt_step.py}
torch_line="not run: $peer not found"
if [ -f "$peer" ] && ! grep -q -- "--device" "$peer"; then
  torch_line="not run: $peer runs on the CPU only (no --device option)"
elif [ -f "$peer" ]; then
  python3 "$peer" --device cuda --bf16 1 --layers 12 --d 768 --heads 12 --T 1024 --B 8 --V 50304 --steps 6 \
    >"$logs/torch-124m.log" 2>&1 && torch_line="124M: $(tail -1 "$logs/torch-124m.log")" ||
    torch_line="failed: $(tail -1 "$logs/torch-124m.log")"
fi
# tessera's tokens/s over PyTorch's, 124M shape, when both ran.
tokens_of() { sed -n 's/.*tokens\/s=\([0-9.]*\).*/\1/p' <<<"$1"; }
t_tok=$(tokens_of "$gpu_124m") p_tok=$(tokens_of "$torch_line")
torch_ratio="not computed (needs both figures)"
[ -n "$t_tok" ] && [ -n "$p_tok" ] && torch_ratio=$(python3 -c "print(f'{$t_tok / $p_tok:.3f}')")

echo
echo "| check | result |"
echo "|---|---|"
echo "| GPU | $(head -1 "$logs/gpu.txt") |"
echo "| gpu tests (CUDA ops vs CPU reference) | $tests_line |"
echo "| bench train, configs/bench-cpu.toml | $bench_line |"
echo "| bench train on the GPU, 124M shape, bf16 | $gpu_124m |"
echo "| bench train on the GPU, 350M shape, bf16 | $gpu_350m |"
echo "| PyTorch peer, same step on the GPU | $torch_line |"
echo "| tessera / PyTorch tokens/s, 124M shape | $torch_ratio |"
echo "| decode on the GPU | not run: the serving engine has no GPU forward yet |"
echo "| wall time | $(elapsed) s |"
exit "$tests_rc"
