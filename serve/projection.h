#pragma once
// The weights of the serving forward's projections (qkv, out, up/gate, down, the output head) in
// the precision chosen at load (EngineOptions::weights, `--weights f32|bf16|int8`):
//   f32:  the model's own parameter, no copy (gemm_nt_rowwise, or BLAS when not batch-invariant);
//   bf16: a bfloat16 copy made once, f32 accumulation in a fixed order (core/cpu/linear_bf16.h);
//   int8: per-output-channel int8 made once, activations quantised per row, VNNI integer dot
//         products (core/cpu/linear_int8.h).
// Every precision is batch-invariant: a row's outputs never depend on the other rows (bf16 and
// int8 by construction, f32 on its batch_invariant path). Under tensor parallelism each rank
// converts its own shard of the weight.
#include <cstdint>
#include <optional>
#include <string>

#include "core/cpu/linear_bf16.h"
#include "core/cpu/quant.h"
#include "core/model/tensor_parallel.h"

namespace tessera::serve {

enum class WeightPrecision { f32, bf16, int8 };

const char* weight_precision_name(WeightPrecision p);  // "f32", "bf16", "int8"
// "f32" | "bf16" | "int8" -> the precision; anything else throws, naming `what` (e.g. "--weights").
WeightPrecision parse_weight_precision(const std::string& text, const std::string& what = "--weights");

class Projection {
 public:
  Projection() = default;
  // weight (OC, C) f32 row-major, kept by pointer for f32 (it must outlive this), converted otherwise.
  Projection(const float* weight, int64_t OC, int64_t C, WeightPrecision precision);

  // out (N, OC) = inp (N, C) @ W^T + bias (+ residual); bias, residual may be null. batch_invariant
  // only matters for f32 (false: BLAS). out must not alias inp or residual.
  void forward(float* out, const float* inp, const float* bias, const float* residual, int64_t N,
               bool batch_invariant) const;
  // A row-parallel projection closing a residual branch (core/model/row_parallel.h): this rank's
  // partial sum, all-reduced over tp, then the bias and the residual added once.
  void row_parallel(float* out, const float* inp, const float* bias, const float* residual, int64_t N,
                    bool batch_invariant, core::TpGroup& tp) const;

  int64_t bytes() const;  // the weight bytes one pass reads

 private:
  WeightPrecision precision_ = WeightPrecision::f32;
  int64_t OC_ = 0, C_ = 0;
  const float* f32_ = nullptr;
  std::optional<core::cpu::Bf16Weight> bf16_;
  std::optional<core::cpu::QuantizedWeight> int8_;
};

}  // namespace tessera::serve
