// Built instead of the .cu kernels when CUDA is off: every GPU op reports that the build has none.
#include "core/cuda/ops.h"

namespace tessera::core::cuda {

namespace {
[[noreturn]] void no_cuda() { TESSERA_FAIL("this build has no CUDA kernels (configure with -DTESSERA_CUDA=ON)"); }
}  // namespace

GpuContext::GpuContext(int) { no_cuda(); }
GpuContext::~GpuContext() = default;
void GpuContext::synchronize() const { no_cuda(); }

void gemm(GpuContext&, bool, bool, const Tensor&, const Tensor&, const Tensor&, float, float) { no_cuda(); }
void linear_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void linear_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                     const Tensor&) {
  no_cuda();
}
void embedding_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void embedding_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void layernorm_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                       const Tensor&, float) {
  no_cuda();
}
void layernorm_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                        const Tensor&, const Tensor&, const Tensor&) {
  no_cuda();
}
void rmsnorm_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, float) { no_cuda(); }
void rmsnorm_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                      const Tensor&) {
  no_cuda();
}
void gelu_forward(GpuContext&, const Tensor&, const Tensor&) { no_cuda(); }
void gelu_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void swiglu_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void swiglu_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda();
}
void residual_add(GpuContext&, const Tensor&, const Tensor&) { no_cuda(); }
void rope_forward(GpuContext&, const Tensor&, int64_t, int64_t, int64_t, double) { no_cuda(); }
void rope_backward(GpuContext&, const Tensor&, int64_t, int64_t, int64_t, double) { no_cuda(); }
void attention_forward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t) {
  no_cuda();
}
void attention_backward(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                        int64_t, int64_t) {
  no_cuda();
}
double softmax_cross_entropy(GpuContext&, const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
void adamw_update(GpuContext&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const cpu::AdamWHyper&,
                  bool) {
  no_cuda();
}

}  // namespace tessera::core::cuda
