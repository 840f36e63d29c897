#include "core/cuda/memory.h"

#include "core/cuda/cuda_check.h"

namespace tessera::core::cuda {

void* device_malloc(size_t bytes) {
  void* ptr = nullptr;
  CUDA_CHECK(cudaMalloc(&ptr, bytes));
  return ptr;
}

void device_free(void* ptr) noexcept { cudaFree(ptr); }

void copy_bytes(void* dst, const void* src, size_t bytes) {
  CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
}

void zero_bytes(void* dst, size_t bytes) { CUDA_CHECK(cudaMemset(dst, 0, bytes)); }

}  // namespace tessera::core::cuda
