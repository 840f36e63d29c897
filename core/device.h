#pragma once
// The accelerators this process can see. Knows nothing of MPI: the parallel layer maps local
// ranks to devices.
#include <string>
#include <vector>

namespace tessera {

struct GpuInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  size_t memory_bytes = 0;
};

bool built_with_cuda();
// The visible GPUs; empty when the build has no CUDA or when the runtime reports any error (no
// driver, no device): callers then run on the CPU and GPU tests skip.
std::vector<GpuInfo> visible_gpus();

}  // namespace tessera
