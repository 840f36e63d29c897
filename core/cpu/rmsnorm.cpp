#include "core/cpu/rmsnorm.h"

#include <cmath>

#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"
#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

// Row workers, cloned per ISA, with `omp simd` row sums, as in layernorm.cpp.

// One row: out (C) = x * rstd * weight; returns rstd.
template <typename T>
TESSERA_SIMD_CLONES static T rmsnorm_row(T* out, const T* x, const T* weight, int64_t C, T eps) {
  T ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t c = 0; c < C; ++c) ss += x[c] * x[c];
  const T s = T(1) / std::sqrt(ss / static_cast<T>(C) + eps);
  for (int64_t c = 0; c < C; ++c) out[c] = x[c] * s * weight[c];
  return s;
}

// One row: dinp (C) += rstd * (g - xhat * mean(g * xhat)), xhat = x * rstd, g = dout * weight.
template <typename T>
TESSERA_SIMD_CLONES static void rmsnorm_backward_row(T* dinp, const T* d, const T* x, const T* weight, T s,
                                                     int64_t C) {
  T gx_mean = 0;
#pragma omp simd reduction(+ : gx_mean)
  for (int64_t c = 0; c < C; ++c) gx_mean += d[c] * weight[c] * x[c] * s;
  gx_mean /= static_cast<T>(C);
  for (int64_t c = 0; c < C; ++c) dinp[c] += s * (d[c] * weight[c] - x[c] * s * gx_mean);
}

template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int64_t N, int64_t C,
                     double eps) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    rstd[n] = rmsnorm_row(out + n * C, inp + n * C, weight, C, static_cast<T>(eps));
  }
}

template <typename T>
void rmsnorm_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int64_t N, int64_t C) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    rmsnorm_backward_row(dinp + n * C, dout + n * C, inp + n * C, weight, rstd[n], C);
  }
  column_sum(dweight, N, C,
             [&](int64_t n, int64_t c) { return dout[n * C + c] * inp[n * C + c] * rstd[n]; });
}

template void rmsnorm_forward<float>(float*, float*, const float*, const float*, int64_t, int64_t,
                                     double);
template void rmsnorm_forward<double>(double*, double*, const double*, const double*, int64_t,
                                      int64_t, double);
template void rmsnorm_backward<float>(float*, float*, const float*, const float*, const float*,
                                      const float*, int64_t, int64_t);
template void rmsnorm_backward<double>(double*, double*, const double*, const double*,
                                       const double*, const double*, int64_t, int64_t);

}  // namespace tessera::core::cpu
