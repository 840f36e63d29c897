#pragma once
// LayerNorm over the last dimension (GPT-2): out = (x - mean) * rstd * weight + bias.
#include <cstdint>

namespace tessera::core::cpu {

// inp (N,C), weight (C), bias (C) -> out (N,C), mean (N), rstd (N) (saved for backward)
template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t N, int64_t C, double eps = 1e-5);

// dout (N,C) -> dinp (N,C) +=, dweight (C) +=, dbias (C) +=
template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t N, int64_t C);

}  // namespace tessera::core::cpu
