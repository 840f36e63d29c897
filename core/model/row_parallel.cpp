#include "core/model/row_parallel.h"

#include "core/cpu/linear.h"
#include "core/cpu/residual.h"

namespace tessera::core {

template <typename F>
void row_parallel_forward(F* out, const F* inp, const F* w, const F* bias, const F* residual, int64_t N,
                          int64_t K, int64_t OC, bool batch_invariant, TpGroup& tp) {
  if (tp.size() == 1) {
    cpu::linear_forward_residual<F>(out, inp, w, bias, residual, N, K, OC, batch_invariant);
    return;
  }
  cpu::linear_forward<F>(out, inp, w, nullptr, N, K, OC, batch_invariant);
  tp.all_reduce_sum(out, N * OC);
  if (bias) cpu::add_bias<F>(out, bias, N, OC);
  cpu::residual_add<F>(out, residual, N * OC);
}

template void row_parallel_forward<float>(float*, const float*, const float*, const float*, const float*, int64_t,
                                          int64_t, int64_t, bool, TpGroup&);
template void row_parallel_forward<double>(double*, const double*, const double*, const double*, const double*,
                                           int64_t, int64_t, int64_t, bool, TpGroup&);

}  // namespace tessera::core
