#include "core/cpu/rmsnorm.h"

#include <cmath>

#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"

namespace tessera::core::cpu {

template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int64_t N, int64_t C,
                     double eps) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    const T* x = inp + n * C;
    T ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += x[c] * x[c];
    const T s = T(1) / std::sqrt(ss / static_cast<T>(C) + static_cast<T>(eps));
    T* o = out + n * C;
    for (int64_t c = 0; c < C; ++c) o[c] = x[c] * s * weight[c];
    rstd[n] = s;
  }
}

template <typename T>
void rmsnorm_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int64_t N, int64_t C) {
  // With xhat = x * rstd and g = dout * weight: dinp = rstd * (g - xhat * mean(g * xhat))
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t n = 0; n < N; ++n) {
    const T* x = inp + n * C;
    const T* d = dout + n * C;
    const T s = rstd[n];
    T gx_mean = 0;
    for (int64_t c = 0; c < C; ++c) gx_mean += d[c] * weight[c] * x[c] * s;
    gx_mean /= static_cast<T>(C);
    T* di = dinp + n * C;
    for (int64_t c = 0; c < C; ++c) di[c] += s * (d[c] * weight[c] - x[c] * s * gx_mean);
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
