#pragma once
// GPU memory for Storage. Built with CUDA: cudaMalloc/cudaFree; without: allocating throws.
#include <cstddef>

namespace tessera::core::cuda {

void* device_malloc(size_t bytes);
void device_free(void* ptr) noexcept;
// Byte copies between host and device memory (kind inferred by the runtime).
void copy_bytes(void* dst, const void* src, size_t bytes);
void zero_bytes(void* dst, size_t bytes);

}  // namespace tessera::core::cuda
