#include "serve/projection.h"

#include "core/cpu/linear.h"
#include "core/cpu/linear_int8.h"
#include "core/cpu/residual.h"
#include "core/error.h"
#include "core/model/row_parallel.h"

namespace tessera::serve {

const char* weight_precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::f32: return "f32";
    case WeightPrecision::bf16: return "bf16";
    case WeightPrecision::int8: return "int8";
  }
  return "?";
}

WeightPrecision parse_weight_precision(const std::string& text, const std::string& what) {
  for (WeightPrecision p : {WeightPrecision::f32, WeightPrecision::bf16, WeightPrecision::int8}) {
    if (text == weight_precision_name(p)) return p;
  }
  throw Error(fmt::format("{}: unknown weight precision '{}' (f32, bf16 or int8)", what, text));
}

Projection::Projection(const float* weight, int64_t OC, int64_t C, WeightPrecision precision)
    : precision_(precision), OC_(OC), C_(C) {
  TESSERA_CHECK(weight != nullptr && OC > 0 && C > 0, "a projection needs a ({}, {}) weight", OC, C);
  switch (precision) {
    case WeightPrecision::f32: f32_ = weight; break;
    case WeightPrecision::bf16: bf16_ = core::cpu::to_bf16_weight(weight, OC, C); break;
    case WeightPrecision::int8: int8_ = core::cpu::quantize_weight(weight, OC, C); break;
  }
}

void Projection::forward(float* out, const float* inp, const float* bias, const float* residual, int64_t N,
                         bool batch_invariant) const {
  switch (precision_) {
    case WeightPrecision::f32:
      core::cpu::linear_forward_residual<float>(out, inp, f32_, bias, residual, N, C_, OC_, batch_invariant);
      break;
    case WeightPrecision::bf16: core::cpu::linear_bf16_forward(out, inp, *bf16_, bias, residual, N); break;
    case WeightPrecision::int8: core::cpu::linear_int8_forward_residual(out, inp, *int8_, bias, residual, N); break;
  }
}

void Projection::row_parallel(float* out, const float* inp, const float* bias, const float* residual, int64_t N,
                              bool batch_invariant, core::TpGroup& tp) const {
  if (precision_ == WeightPrecision::f32) {  // exactly what training computes
    core::row_parallel_forward<float>(out, inp, f32_, bias, residual, N, C_, OC_, batch_invariant, tp);
    return;
  }
  if (tp.size() == 1) {
    forward(out, inp, bias, residual, N, batch_invariant);
    return;
  }
  forward(out, inp, nullptr, nullptr, N, batch_invariant);
  tp.all_reduce_sum(out, N * OC_);
  if (bias) core::cpu::add_bias<float>(out, bias, N, OC_);
  core::cpu::residual_add<float>(out, residual, N * OC_);
}

int64_t Projection::bytes() const {
  switch (precision_) {
    case WeightPrecision::f32: return OC_ * C_ * 4;
    case WeightPrecision::bf16: return static_cast<int64_t>(bf16_->bytes());
    case WeightPrecision::int8: return static_cast<int64_t>(int8_->bytes());
  }
  return 0;
}

}  // namespace tessera::serve
