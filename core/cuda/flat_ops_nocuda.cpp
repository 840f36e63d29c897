// Built instead of flat_ops.cu when CUDA is off: every whole-buffer GPU operation reports that the
// build has none.
#include "core/cuda/flat_ops.h"

namespace tessera::core::cuda {

namespace {
[[noreturn]] void no_cuda() { TESSERA_FAIL("this build has no CUDA kernels (configure with -DTESSERA_CUDA=ON)"); }
}  // namespace

void cast(GpuContext&, const Tensor&, const Tensor&) { no_cuda(); }
void accumulate(GpuContext&, const Tensor&, const Tensor&) { no_cuda(); }
void scale(GpuContext&, const Tensor&, float) { no_cuda(); }
void zero(GpuContext&, const Tensor&) { no_cuda(); }
double sum_squares(GpuContext&, const Tensor&) { no_cuda(); }

}  // namespace tessera::core::cuda
