#include <cuda_runtime.h>

#include "core/device.h"

namespace tessera {

bool built_with_cuda() { return true; }

std::vector<GpuInfo> visible_gpus() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "driver insufficient" state on machines without a GPU
    return {};
  }
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) return {};
    gpus.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
  }
  return gpus;
}

}  // namespace tessera
