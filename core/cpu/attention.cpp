#include "core/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/paged_attention_avx512.h"
#include "core/cpu/parallel.h"
#include "core/cpu/softmax_rows.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

static void check_heads(int64_t NH, int64_t NKV) {
  TESSERA_CHECK(NKV > 0 && NH % NKV == 0, "attention: {} query heads are not a multiple of {} kv heads",
                NH, NKV);
}

// Query rows are processed in blocks of kBlock: the rows [r0, r1) of a block attend to keys [0, r1)
// only, so each product runs over that prefix and the masked upper triangle is skipped except
// inside the diagonal blocks (at T = 256, 9/16 of the dense work). 32 rows ran 4-8% faster than 64
// on one thread (fewer masked products; oneDNN still runs the smaller calls near its peak).
constexpr int64_t kBlock = 32;

// One (sequence, head). q, k, v (Tlen,D) with row stride ld; p (Tlen,Tlen) probabilities;
// y (Tlen,D) with row stride C. With batch_invariant, vt (D,Tlen) is scratch for v^T.
template <typename T>
static void forward_head(T* y, T* p, const T* q, const T* k, const T* v, T* vt, int64_t Tlen,
                         int64_t D, int64_t ld, int64_t C, T scale, bool batch_invariant) {
  if (batch_invariant) {
    for (int64_t j = 0; j < Tlen; ++j) {
      for (int64_t d = 0; d < D; ++d) vt[d * Tlen + j] = v[j * ld + d];
    }
  }
  for (int64_t r0 = 0; r0 < Tlen; r0 += kBlock) {
    const int64_t r1 = std::min(Tlen, r0 + kBlock), m = r1 - r0;
    T* pb = p + r0 * Tlen;  // (m, r1) used, row stride Tlen
    // pb = scale * q[r0:r1] @ k[0:r1]^T
    if (batch_invariant) {
      gemm_nt_rowwise<T>(m, r1, D, q + r0 * ld, ld, k, ld, pb, Tlen, false);
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < r1; ++j) pb[i * Tlen + j] *= scale;
      }
    } else {
      gemm<T>(false, true, m, r1, D, scale, q + r0 * ld, ld, k, ld, T(0), pb, Tlen);
    }
    for (int64_t t = r0; t < r1; ++t) causal_softmax_row(p + t * Tlen, t + 1, Tlen);
    // y[r0:r1] (m,D) = pb (m,r1) @ v[0:r1] (r1,D); fixed order through vt
    if (batch_invariant) {
      gemm_nt_rowwise<T>(m, D, r1, pb, Tlen, vt, Tlen, y + r0 * C, C, false);
    } else {
      gemm<T>(false, false, m, D, r1, T(1), pb, Tlen, v, ld, T(0), y + r0 * C, C);
    }
  }
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
    std::vector<T> vt(batch_invariant ? static_cast<size_t>(D * Tlen) : 0);
#pragma omp for schedule(dynamic)
    for (int64_t bh = 0; bh < B * NH; ++bh) {
      const int64_t b = bh / NH, h = bh % NH, g = h / group;
      const T* row0 = qkv + b * Tlen * ld;
      forward_head(out + b * Tlen * C + h * D, att + bh * Tlen * Tlen, row0 + h * D,
                   row0 + (NH + g) * D, row0 + (NH + NKV + g) * D, vt.data(), Tlen, D, ld, C,
                   scale, batch_invariant);
    }
  }
}

// acc (16,D) += the value rows of tokens [t0, t1) weighted by p: token t into lane t mod 16, as
// gemm_nt_rowwise's dot products place the terms of a sum over t. Cloned per ISA (fused
// multiply-adds where gemm_nt_rowwise has them).
template <typename T>
TESSERA_SIMD_CLONES static void accumulate_values(T* acc, const T* v, int64_t ld, const T* p, int64_t t0,
                                                  int64_t t1, int64_t D) {
  for (int64_t t = t0; t < t1; ++t) {
    T* a = acc + (t % 16) * D;
    const T* vt = v + (t - t0) * ld;
    const T pt = p[t];
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) a[d] += pt * vt[d];
  }
}

// out (D) = the 16 lanes of acc (16,D) summed as reduce_lanes sums (halving tree); acc destroyed.
template <typename T>
TESSERA_SIMD_CLONES static void reduce_value_lanes(T* out, T* acc, int64_t D) {
  for (int64_t width = 8; width > 0; width /= 2) {
    for (int64_t l = 0; l < width; ++l) {
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) acc[l * D + d] = acc[l * D + d] + acc[(l + width) * D + d];
    }
  }
  std::copy(acc, acc + D, out);
}

// rows (len, D) = the widened bf16 rows src (len, D), row stride ld.
TESSERA_SIMD_CLONES static void widen_rows(float* rows, const bf16* src, int64_t ld, int64_t len, int64_t D) {
  for (int64_t i = 0; i < len; ++i) {
    const bf16* s = src + i * ld;
    float* r = rows + i * D;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) r[d] = static_cast<float>(s[d]);
  }
}

template <typename T, typename E>
void attention_rows_paged(T* out, int64_t ldo, const T* q, int64_t ldq, int64_t M, const PagedContext<E>& ctx,
                          int64_t n, int64_t D, T* scratch) {
  constexpr bool kWiden = !std::is_same_v<T, E>;
  static_assert(!kWiden || (std::is_same_v<T, float> && std::is_same_v<E, bf16>), "a T or a bf16 context");
  const T scale = T(1) / std::sqrt(static_cast<T>(D));
  const int64_t lds = paged_score_stride(n);
  T* scores = scratch;           // (M, lds)
  T* acc = scores + M * lds;     // (16, D)
  T* wide = acc + 16 * D;        // (16, D) widened tokens
  auto softmax = [&](T* p) {     // scaled, normalised on [0, n), zero on [n, lds)
    for (int64_t j = 0; j < n; ++j) p[j] *= scale;
    causal_softmax_row(p, n, lds);
  };
  if constexpr (std::is_same_v<T, float>) {
    if (paged::fits_avx512(ctx.page, D)) {
      paged::scores_avx512(scores, lds, q, ldq, M, ctx, n, D);
      for (int64_t i = 0; i < M; ++i) softmax(scores + i * lds);
      paged::values_avx512(out, ldo, scores, lds, M, ctx, n, D);
      return;
    }
  }
  const int64_t piece = kWiden ? std::min<int64_t>(ctx.page, 16) : ctx.page;  // tokens read at once
  const int64_t ld = kWiden ? D : ctx.ld;
  // Tokens [t, t + len) of one page as T rows of stride ld.
  auto rows = [&](const E* const* pages, int64_t t, int64_t len) -> const T* {
    const E* src = pages[t / ctx.page] + (t % ctx.page) * ctx.ld;
    if constexpr (kWiden) {
      widen_rows(wide, src, ctx.ld, len, D);
      return wide;
    } else {
      return src;
    }
  };
  auto length = [&](int64_t t) { return std::min({piece, n - t, ctx.page - t % ctx.page}); };
  for (int64_t t = 0, len = 0; t < n; t += len) {
    len = length(t);
    gemm_nt_rowwise_serial<T>(M, len, D, q, ldq, rows(ctx.keys, t, len), ld, scores + t, lds, false);
  }
  for (int64_t i = 0; i < M; ++i) {
    T* p = scores + i * lds;
    softmax(p);
    std::fill(acc, acc + 16 * D, T(0));
    for (int64_t t = 0, len = 0; t < n; t += len) {
      len = length(t);
      accumulate_values(acc, rows(ctx.values, t, len), ld, p, t, t + len, D);
    }
    reduce_value_lanes(out + i * ldo, acc, D);
  }
}

// One (sequence, query head): adds into dq, dk, dv (Tlen,D), row stride ld. dy (Tlen,D) with row
// stride C; p (Tlen,Tlen) the forward's probabilities; ds (kBlock,Tlen) scratch.
template <typename T>
static void backward_head(T* dq, T* dk, T* dv, const T* dy, const T* q, const T* k, const T* v,
                          const T* p, T* ds, int64_t Tlen, int64_t D, int64_t ld, int64_t C,
                          T scale) {
  for (int64_t r0 = 0; r0 < Tlen; r0 += kBlock) {
    const int64_t r1 = std::min(Tlen, r0 + kBlock), m = r1 - r0;
    const T* pb = p + r0 * Tlen;  // (m, r1), row stride Tlen
    const T* dyb = dy + r0 * C;   // (m, D)
    // dv[0:r1] (r1,D) += pb^T (r1,m) @ dyb (m,D)
    gemm<T>(true, false, r1, D, m, T(1), pb, Tlen, dyb, C, T(1), dv, ld);
    // ds (m,r1) = dyb (m,D) @ v[0:r1]^T (D,r1), then through the softmax
    gemm<T>(false, true, m, r1, D, T(1), dyb, C, v, ld, T(0), ds, Tlen);
    for (int64_t i = 0; i < m; ++i) {
      causal_softmax_backward_row(ds + i * Tlen, pb + i * Tlen, scale, r0 + i + 1, r1);
    }
    // dq[r0:r1] (m,D) += ds (m,r1) @ k[0:r1] (r1,D);  dk[0:r1] (r1,D) += ds^T (r1,m) @ q[r0:r1]
    gemm<T>(false, false, m, D, r1, T(1), ds, Tlen, k, ld, T(1), dq + r0 * ld, ld);
    gemm<T>(true, false, r1, D, m, T(1), ds, Tlen, q + r0 * ld, ld, T(1), dk, ld);
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
    std::vector<T> ds(static_cast<size_t>(std::min(Tlen, kBlock) * Tlen));
#pragma omp for schedule(dynamic)
    for (int64_t bg = 0; bg < B * NKV; ++bg) {
      const int64_t b = bg / NKV, g = bg % NKV;
      const int64_t row0 = b * Tlen * ld;
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        backward_head(dqkv + row0 + h * D, dqkv + row0 + (NH + g) * D,
                      dqkv + row0 + (NH + NKV + g) * D, dout + b * Tlen * C + h * D,
                      qkv + row0 + h * D, qkv + row0 + (NH + g) * D,
                      qkv + row0 + (NH + NKV + g) * D, att + (b * NH + h) * Tlen * Tlen, ds.data(),
                      Tlen, D, ld, C, scale);
      }
    }
  }
}

template void attention_forward<float>(float*, float*, const float*, int64_t, int64_t, int64_t,
                                       int64_t, int64_t, bool);
template void attention_forward<double>(double*, double*, const double*, int64_t, int64_t, int64_t,
                                        int64_t, int64_t, bool);
template void attention_rows_paged(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<float>&,
                                   int64_t, int64_t, float*);
template void attention_rows_paged(double*, int64_t, const double*, int64_t, int64_t, const PagedContext<double>&,
                                   int64_t, int64_t, double*);
template void attention_rows_paged(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<bf16>&,
                                   int64_t, int64_t, float*);
template void attention_backward<float>(float*, const float*, const float*, const float*, int64_t,
                                        int64_t, int64_t, int64_t, int64_t);
template void attention_backward<double>(double*, const double*, const double*, const double*,
                                         int64_t, int64_t, int64_t, int64_t, int64_t);

}  // namespace tessera::core::cpu
