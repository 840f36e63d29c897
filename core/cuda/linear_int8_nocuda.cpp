// Built instead of linear_int8.cu when CUDA is off: the GPU int8 layer reports that the build has none.
#include "core/cuda/linear_int8.h"

#include "core/error.h"

namespace tessera::core::cuda {

GpuQuantizedWeight upload_quantized(const cpu::QuantizedWeight&) {
  TESSERA_FAIL("this build has no CUDA kernels (configure with -DTESSERA_CUDA=ON)");
}

void linear_int8_forward(GpuContext&, const Tensor&, const Tensor&, const GpuQuantizedWeight&,
                         const Tensor&, const Tensor&) {
  TESSERA_FAIL("this build has no CUDA kernels (configure with -DTESSERA_CUDA=ON)");
}

}  // namespace tessera::core::cuda
