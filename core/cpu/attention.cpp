#include "core/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

static void check_heads(int64_t NH, int64_t NKV) {
  TESSERA_CHECK(NKV > 0 && NH % NKV == 0, "attention: {} query heads are not a multiple of {} kv heads",
                NH, NKV);
}

// Causal softmax of one score row in place: entries [0, n) normalised, [n, T) zeroed.
template <typename T>
TESSERA_SIMD_CLONES static void causal_softmax_row(T* row, int64_t n, int64_t Tlen) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
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

// Softmax backward of one row folded with the score scale: ds = scale * p * (dp - sum_j p dp).
template <typename T>
TESSERA_SIMD_CLONES static void causal_softmax_backward_row(T* dp, const T* p, T scale, int64_t n,
                                                            int64_t Tlen) {
  T dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < n; ++j) dot += p[j] * dp[j];
  for (int64_t j = 0; j < n; ++j) dp[j] = scale * p[j] * (dp[j] - dot);
  for (int64_t j = n; j < Tlen; ++j) dp[j] = 0;
}

template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t NH,
                       int64_t NKV, int64_t D, bool batch_invariant) {
  check_heads(NH, NKV);
  const int64_t ld = (NH + 2 * NKV) * D;  // qkv row
  const int64_t C = NH * D;               // out row
  const int64_t group = NH / NKV;
  const T scale = T(1) / std::sqrt(static_cast<T>(D));
  // GEMMs inside the parallel loop run on the calling thread (no nested parallelism).
#pragma omp parallel if (parallel_worth(B * NH * Tlen * Tlen * D))
  {
    std::vector<T> vt(batch_invariant ? static_cast<size_t>(D * Tlen) : 0);  // (D,T) scratch
#pragma omp for schedule(dynamic)
    for (int64_t bh = 0; bh < B * NH; ++bh) {
      const int64_t b = bh / NH, h = bh % NH, g = h / group;
      const T* q = qkv + b * Tlen * ld + h * D;          // (T,D), row stride ld
      const T* k = qkv + b * Tlen * ld + (NH + g) * D;   // (T,D)
      const T* v = qkv + b * Tlen * ld + (NH + NKV + g) * D;
      T* p = att + bh * Tlen * Tlen;                      // (T,T)
      T* y = out + b * Tlen * C + h * D;                  // (T,D), row stride C
      if (batch_invariant) {
        // p = q @ k^T, then scaled; out = p @ v through v^T (D,T), all in fixed order.
        gemm_nt_rowwise<T>(Tlen, Tlen, D, q, ld, k, ld, p, Tlen, false);
        for (int64_t i = 0; i < Tlen * Tlen; ++i) p[i] *= scale;
        for (int64_t t = 0; t < Tlen; ++t) causal_softmax_row(p + t * Tlen, t + 1, Tlen);
        for (int64_t j = 0; j < Tlen; ++j) {
          for (int64_t d = 0; d < D; ++d) vt[d * Tlen + j] = v[j * ld + d];
        }
        gemm_nt_rowwise<T>(Tlen, D, Tlen, p, Tlen, vt.data(), Tlen, y, C, false);
      } else {
        // p = scale * q @ k^T; only the lower triangle is used.
        gemm<T>(false, true, Tlen, Tlen, D, scale, q, ld, k, ld, T(0), p, Tlen);
        for (int64_t t = 0; t < Tlen; ++t) causal_softmax_row(p + t * Tlen, t + 1, Tlen);
        // out (T,D) = p (T,T) @ v (T,D)
        gemm<T>(false, false, Tlen, D, Tlen, T(1), p, Tlen, v, ld, T(0), y, C);
      }
    }
  }
}

template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B,
                        int64_t Tlen, int64_t NH, int64_t NKV, int64_t D) {
  check_heads(NH, NKV);
  const int64_t ld = (NH + 2 * NKV) * D;
  const int64_t C = NH * D;
  const int64_t group = NH / NKV;
  const T scale = T(1) / std::sqrt(static_cast<T>(D));
  // One task per (sequence, kv head): the query heads of a group add into the same dk and dv, so
  // they run in order on one thread.
#pragma omp parallel if (parallel_worth(B * NH * Tlen * Tlen * D))
  {
    std::vector<T> ds(static_cast<size_t>(Tlen * Tlen));  // (T,T) scratch
#pragma omp for schedule(dynamic)
    for (int64_t bg = 0; bg < B * NKV; ++bg) {
      const int64_t b = bg / NKV, g = bg % NKV;
      const int64_t row0 = b * Tlen * ld;
      const T* k = qkv + row0 + (NH + g) * D;
      const T* v = qkv + row0 + (NH + NKV + g) * D;
      T* dk = dqkv + row0 + (NH + g) * D;
      T* dv = dqkv + row0 + (NH + NKV + g) * D;
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const T* q = qkv + row0 + h * D;
        T* dq = dqkv + row0 + h * D;
        const T* p = att + (b * NH + h) * Tlen * Tlen;
        const T* dy = dout + b * Tlen * C + h * D;  // (T,D), row stride C
        // dv (T,D) += p^T (T,T) @ dy (T,D)
        gemm<T>(true, false, Tlen, D, Tlen, T(1), p, Tlen, dy, C, T(1), dv, ld);
        // dp (T,T) = dy (T,D) @ v^T (D,T)
        gemm<T>(false, true, Tlen, Tlen, D, T(1), dy, C, v, ld, T(0), ds.data(), Tlen);
        for (int64_t t = 0; t < Tlen; ++t) {
          causal_softmax_backward_row(ds.data() + t * Tlen, p + t * Tlen, scale, t + 1, Tlen);
        }
        // dq (T,D) += ds (T,T) @ k (T,D);  dk (T,D) += ds^T (T,T) @ q (T,D)
        gemm<T>(false, false, Tlen, D, Tlen, T(1), ds.data(), Tlen, k, ld, T(1), dq, ld);
        gemm<T>(true, false, Tlen, D, Tlen, T(1), ds.data(), Tlen, q, ld, T(1), dk, ld);
      }
    }
  }
}

template void attention_forward<float>(float*, float*, const float*, int64_t, int64_t, int64_t,
                                       int64_t, int64_t, bool);
template void attention_forward<double>(double*, double*, const double*, int64_t, int64_t, int64_t,
                                        int64_t, int64_t, bool);
template void attention_backward<float>(float*, const float*, const float*, const float*, int64_t,
                                        int64_t, int64_t, int64_t, int64_t);
template void attention_backward<double>(double*, const double*, const double*, const double*,
                                         int64_t, int64_t, int64_t, int64_t, int64_t);

}  // namespace tessera::core::cpu
