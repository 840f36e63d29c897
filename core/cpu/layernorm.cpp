#include "core/cpu/layernorm.h"

#include <cmath>

#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"
#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

// Row workers, cloned per ISA (OpenMP's outlined loop bodies are compiled for the baseline only).
// The row sums are `omp simd` reductions: vectorised partial sums, the same for a row whatever
// the batch and the thread count.

// One row: out (C), returns mean and rstd through m and s.
template <typename T>
TESSERA_SIMD_CLONES static void layernorm_row(T* out, T* m_out, T* s_out, const T* x, const T* weight,
                                              const T* bias, int64_t C, T eps) {
  T m = 0;
#pragma omp simd reduction(+ : m)
  for (int64_t c = 0; c < C; ++c) m += x[c];
  m /= static_cast<T>(C);
  T var = 0;  // two passes: no cancellation when |mean| >> std
#pragma omp simd reduction(+ : var)
  for (int64_t c = 0; c < C; ++c) var += (x[c] - m) * (x[c] - m);
  var /= static_cast<T>(C);
  const T s = T(1) / std::sqrt(var + eps);
  for (int64_t c = 0; c < C; ++c) out[c] = (x[c] - m) * s * weight[c] + bias[c];
  *m_out = m;
  *s_out = s;
}

// One row: dinp (C) += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight.
template <typename T>
TESSERA_SIMD_CLONES static void layernorm_backward_row(T* dinp, const T* d, const T* x, const T* weight,
                                                       T m, T s, int64_t C) {
  T g_mean = 0, gx_mean = 0;
#pragma omp simd reduction(+ : g_mean, gx_mean)
  for (int64_t c = 0; c < C; ++c) {
    const T g = d[c] * weight[c];
    g_mean += g;
    gx_mean += g * (x[c] - m) * s;
  }
  g_mean /= static_cast<T>(C);
  gx_mean /= static_cast<T>(C);
  for (int64_t c = 0; c < C; ++c) {
    const T xhat = (x[c] - m) * s;
    dinp[c] += s * (d[c] * weight[c] - g_mean - xhat * gx_mean);
  }
}

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t N, int64_t C, double eps) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    layernorm_row(out + n * C, mean + n, rstd + n, inp + n * C, weight, bias, C, static_cast<T>(eps));
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t N, int64_t C) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    layernorm_backward_row(dinp + n * C, dout + n * C, inp + n * C, weight, mean[n], rstd[n], C);
  }
  column_sum(dweight, N, C, [&](int64_t n, int64_t c) {
    return dout[n * C + c] * (inp[n * C + c] - mean[n]) * rstd[n];
  });
  column_sum(dbias, N, C, [&](int64_t n, int64_t c) { return dout[n * C + c]; });
}

template void layernorm_forward<float>(float*, float*, float*, const float*, const float*,
                                       const float*, int64_t, int64_t, double);
template void layernorm_forward<double>(double*, double*, double*, const double*, const double*,
                                        const double*, int64_t, int64_t, double);
template void layernorm_backward<float>(float*, float*, float*, const float*, const float*,
                                        const float*, const float*, const float*, int64_t, int64_t);
template void layernorm_backward<double>(double*, double*, double*, const double*, const double*,
                                         const double*, const double*, const double*, int64_t,
                                         int64_t);

}  // namespace tessera::core::cpu
