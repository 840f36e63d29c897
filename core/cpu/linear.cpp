#include "core/cpu/linear.h"

#include <algorithm>

#include "core/cpu/gemm.h"
#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"

namespace tessera::core::cpu {

template <typename T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int64_t N, int64_t C,
                    int64_t OC, bool batch_invariant) {
  if (bias) {
#pragma omp parallel for if (parallel_worth(N * OC))
    for (int64_t n = 0; n < N; ++n) std::copy(bias, bias + OC, out + n * OC);
  }
  if (batch_invariant) {
    gemm_nt_rowwise<T>(N, OC, C, inp, C, weight, C, out, OC, bias != nullptr);
  } else {
    gemm<T>(false, true, N, OC, C, T(1), inp, C, weight, C, bias ? T(1) : T(0), out, OC);
  }
}

template <typename T>
void add_bias(T* out, const T* bias, int64_t N, int64_t OC) {
#pragma omp parallel for if (parallel_worth(N * OC))
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < OC; ++c) out[n * OC + c] += bias[c];
  }
}

template <typename T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int64_t N, int64_t C, int64_t OC) {
  // dinp (N,C) += dout (N,OC) @ weight (OC,C)
  if (dinp) gemm<T>(false, false, N, C, OC, T(1), dout, OC, weight, C, T(1), dinp, C);
  // dweight (OC,C) += dout^T (OC,N) @ inp (N,C)
  if (dweight) gemm<T>(true, false, OC, C, N, T(1), dout, OC, inp, C, T(1), dweight, C);
  if (dbias) column_sum(dbias, N, OC, [&](int64_t n, int64_t c) { return dout[n * OC + c]; });
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int64_t,
                                    int64_t, int64_t, bool);
template void linear_forward<double>(double*, const double*, const double*, const double*, int64_t,
                                     int64_t, int64_t, bool);
template void add_bias<float>(float*, const float*, int64_t, int64_t);
template void add_bias<double>(double*, const double*, int64_t, int64_t);
template void linear_backward<float>(float*, float*, float*, const float*, const float*,
                                     const float*, int64_t, int64_t, int64_t);
template void linear_backward<double>(double*, double*, double*, const double*, const double*,
                                      const double*, int64_t, int64_t, int64_t);

}  // namespace tessera::core::cpu
