#pragma once
// Linear layer: out = inp @ weight^T + bias, with weight stored (out_features, in_features) as in
// PyTorch and GGUF. Backward kernels here and in every core/cpu op ACCUMULATE (+=) into their
// gradient outputs; the caller zeroes them once per step (tied weights and residuals need this).
#include <cstdint>

#include "core/cpu/gemm_bf16.h"

namespace tessera::core::cpu {

// inp (N,C), weight (OC,C), bias (OC) or null -> out (N,OC)
// batch_invariant: each output row is computed independently of the other rows in a fixed
// reduction order (gemm_nt_rowwise), as serving needs; otherwise the faster BLAS path.
template <typename T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int64_t N, int64_t C,
                    int64_t OC, bool batch_invariant = false);

// The same with a residual added in the same pass: out (N,OC) = residual (N,OC) + inp @ weight^T
// + bias (bias may be null). out must not alias residual.
template <typename T>
void linear_forward_residual(T* out, const T* inp, const T* weight, const T* bias,
                             const T* residual, int64_t N, int64_t C, int64_t OC,
                             bool batch_invariant = false);

// out (N,OC) += bias (OC) on every row. A row-parallel linear (tensor parallelism) adds its bias
// this way, once, after the reduction of the ranks' partial products.
template <typename T>
void add_bias(T* out, const T* bias, int64_t N, int64_t OC);

// dout (N,OC) -> dinp (N,C) +=, dweight (OC,C) +=, dbias (OC) +=; any output may be null (skipped).
// add_to_dinp = false overwrites dinp instead (a scratch gradient then needs no zeroing first).
template <typename T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int64_t N, int64_t C, int64_t OC, bool add_to_dinp = true);

// bf16 training (docs/training.md, Precision): the same products with bf16 operands and f32
// accumulation and outputs (gemm_bf16.h). The caller rounds the input once (round_to_bf16) and
// keeps it for backward; the weight (OC,C) is packed twice per optimizer step, as op(B) = W^T for
// the forward and op(B) = W for the input gradient.
// xb (N,C) bf16, wt packed (K = C, N = OC), bias (OC) or null, residual (N,OC) or null -> out (N,OC)
void linear_forward_bf16(float* out, const uint16_t* xb, const PackedBf16& wt, const float* bias,
                         const float* residual, int64_t N, int64_t C, int64_t OC);
// db (N,OC) the output gradient in bf16, xb (N,C) the forward's input, w packed (K = OC, N = C) ->
// dinp (N,C) (+)=, dweight (OC,C) += (either may be null). The bias gradient is the f32 one
// (linear_backward with only dbias).
void linear_backward_bf16(float* dinp, float* dweight, const uint16_t* db, const uint16_t* xb, const PackedBf16& w,
                          int64_t N, int64_t C, int64_t OC, bool add_to_dinp = true);

// A bf16 forward's operands as one argument (row_parallel.h): the rounded input and the packed
// weight (both null: no bf16 product).
struct Bf16Operands {
  const uint16_t* xb = nullptr;
  const PackedBf16* wt = nullptr;
};

}  // namespace tessera::core::cpu
