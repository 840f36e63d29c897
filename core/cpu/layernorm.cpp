#include "core/cpu/layernorm.h"

#include <cmath>

#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"

namespace tessera::core::cpu {

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t N, int64_t C, double eps) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    const T* x = inp + n * C;
    T m = 0;
    for (int64_t c = 0; c < C; ++c) m += x[c];
    m /= static_cast<T>(C);
    T var = 0;  // two passes: no cancellation when |mean| >> std
    for (int64_t c = 0; c < C; ++c) var += (x[c] - m) * (x[c] - m);
    var /= static_cast<T>(C);
    const T s = T(1) / std::sqrt(var + static_cast<T>(eps));
    T* o = out + n * C;
    for (int64_t c = 0; c < C; ++c) o[c] = (x[c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t N, int64_t C) {
  // With xhat = (x - mean) * rstd and g = dout * weight:
  //   dinp = rstd * (g - mean(g) - xhat * mean(g * xhat))
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    const T* x = inp + n * C;
    const T* d = dout + n * C;
    const T m = mean[n], s = rstd[n];
    T g_mean = 0, gx_mean = 0;
    for (int64_t c = 0; c < C; ++c) {
      const T g = d[c] * weight[c];
      g_mean += g;
      gx_mean += g * (x[c] - m) * s;
    }
    g_mean /= static_cast<T>(C);
    gx_mean /= static_cast<T>(C);
    T* di = dinp + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const T xhat = (x[c] - m) * s;
      di[c] += s * (d[c] * weight[c] - g_mean - xhat * gx_mean);
    }
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
