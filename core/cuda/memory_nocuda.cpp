// Built instead of memory.cu when CUDA is off: no device memory can exist.
#include "core/cuda/memory.h"

#include "core/error.h"

namespace tessera::core::cuda {

void* device_malloc(size_t bytes) {
  TESSERA_FAIL("cannot allocate {} bytes on a GPU: this build has no CUDA (-DTESSERA_CUDA=ON)", bytes);
}
void device_free(void*) noexcept {}
void copy_bytes(void*, const void*, size_t) {
  TESSERA_FAIL("cannot copy to or from a GPU: this build has no CUDA");
}

void zero_bytes(void*, size_t) { TESSERA_FAIL("cannot write GPU memory: this build has no CUDA"); }

}  // namespace tessera::core::cuda
