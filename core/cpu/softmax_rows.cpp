#include "core/cpu/softmax_rows.h"

#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

template <typename T>
TESSERA_SIMD_CLONES void causal_softmax_row(T* row, int64_t n, int64_t Tlen) {
  const T mx = max_lanes(row, n);
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    row[j] = vexp(row[j] - mx);
    sum += row[j];
  }
  const T inv = T(1) / sum;
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
  for (int64_t j = n; j < Tlen; ++j) row[j] = 0;
}

template <typename T>
TESSERA_SIMD_CLONES void causal_softmax_backward_row(T* dp, const T* p, T scale, int64_t n, int64_t end) {
  T dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < n; ++j) dot += p[j] * dp[j];
  for (int64_t j = 0; j < n; ++j) dp[j] = scale * p[j] * (dp[j] - dot);
  for (int64_t j = n; j < end; ++j) dp[j] = 0;
}

template void causal_softmax_row<float>(float*, int64_t, int64_t);
template void causal_softmax_row<double>(double*, int64_t, int64_t);
template void causal_softmax_backward_row<float>(float*, const float*, float, int64_t, int64_t);
template void causal_softmax_backward_row<double>(double*, const double*, double, int64_t, int64_t);

}  // namespace tessera::core::cpu
