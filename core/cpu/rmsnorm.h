#pragma once
// RMSNorm over the last dimension (LLaMA): out = x * rstd * weight, rstd = 1/sqrt(mean(x^2) + eps).
#include <cstdint>

namespace tessera::core::cpu {

// inp (N,C), weight (C) -> out (N,C), rstd (N) (saved for backward)
template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int64_t N, int64_t C,
                     double eps = 1e-5);

// dout (N,C) -> dinp (N,C) +=, dweight (C) +=
template <typename T>
void rmsnorm_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int64_t N, int64_t C);

}  // namespace tessera::core::cpu
