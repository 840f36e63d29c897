#pragma once
// Linear layer: out = inp @ weight^T + bias, with weight stored (out_features, in_features) as in
// PyTorch and GGUF. Backward kernels here and in every core/cpu op ACCUMULATE (+=) into their
// gradient outputs; the caller zeroes them once per step (tied weights and residuals need this).
#include <cstdint>

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

// bf16 training (docs/training.md, Precision): the same three products with bf16 operands and f32
// accumulation and outputs (gemm_bf16.h). wbf (OC,C) is the weight's bf16 copy; inp and dout are
// rounded to bf16 on the way in. Same shapes and accumulation rules as above (f32 only).
void linear_forward_bf16(float* out, const float* inp, const uint16_t* wbf, const float* bias,
                         const float* residual, int64_t N, int64_t C, int64_t OC);
void linear_backward_bf16(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                          const uint16_t* wbf, int64_t N, int64_t C, int64_t OC, bool add_to_dinp = true);

}  // namespace tessera::core::cpu
