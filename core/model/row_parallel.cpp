#include "core/model/row_parallel.h"

#include <type_traits>

#include "core/cpu/linear.h"
#include "core/cpu/residual.h"
#include "core/error.h"

namespace tessera::core {

template <typename F>
void row_parallel_forward(F* out, const F* inp, const F* w, const F* bias, const F* residual, int64_t N,
                          int64_t K, int64_t OC, bool batch_invariant, TpGroup& tp,
                          cpu::Bf16Operands bf16) {
  // out = product (+ b + res)
  auto product = [&](const F* b, const F* res) {
    if constexpr (std::is_same_v<F, float>) {
      if (bf16.wt) return cpu::linear_forward_bf16(out, bf16.xb, *bf16.wt, b, res, N, K, OC);
    }
    TESSERA_CHECK(!bf16.wt, "bf16 products need f32 activations");
    cpu::linear_forward_residual<F>(out, inp, w, b, res, N, K, OC, batch_invariant);
  };
  if (tp.size() == 1) {
    product(bias, residual);
    return;
  }
  product(nullptr, nullptr);
  tp.all_reduce_sum(out, N * OC);
  if (bias) cpu::add_bias<F>(out, bias, N, OC);
  cpu::residual_add<F>(out, residual, N * OC);
}

template void row_parallel_forward<float>(float*, const float*, const float*, const float*, const float*, int64_t,
                                          int64_t, int64_t, bool, TpGroup&, cpu::Bf16Operands);
template void row_parallel_forward<double>(double*, const double*, const double*, const double*, const double*,
                                           int64_t, int64_t, int64_t, bool, TpGroup&, cpu::Bf16Operands);

}  // namespace tessera::core
