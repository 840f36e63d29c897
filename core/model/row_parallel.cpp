#include "core/model/row_parallel.h"

#include <type_traits>

#include "core/cpu/linear.h"
#include "core/cpu/residual.h"
#include "core/error.h"

namespace tessera::core {

template <typename F>
void row_parallel_forward(F* out, const F* inp, const F* w, const F* bias, const F* residual, int64_t N,
                          int64_t K, int64_t OC, bool batch_invariant, TpGroup& tp, const uint16_t* w_bf16) {
  // out = product (+ b + res)
  auto product = [&](const F* b, const F* res) {
    if constexpr (std::is_same_v<F, float>) {
      if (w_bf16) return cpu::linear_forward_bf16(out, inp, w_bf16, b, res, N, K, OC);
    }
    TESSERA_CHECK(!w_bf16, "bf16 products need f32 activations");
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
                                          int64_t, int64_t, bool, TpGroup&, const uint16_t*);
template void row_parallel_forward<double>(double*, const double*, const double*, const double*, const double*,
                                           int64_t, int64_t, int64_t, bool, TpGroup&, const uint16_t*);

}  // namespace tessera::core
