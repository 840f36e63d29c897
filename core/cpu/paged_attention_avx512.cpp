// AVX-512 kernels of the paged decode attention (core/cpu/paged_attention_avx512.h). Compiled
// for the baseline with per-function target attributes, chosen at run time.
#include "core/cpu/paged_attention_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "core/cpu/lane_trees_avx512.h"
#include "core/cpu/rowwise_tiles.h"

namespace tessera::core::cpu::paged {

using rowwise::reduce_trees, rowwise::reduce_vectors;

bool fits_avx512(int64_t page, int64_t D) { return rowwise::have_avx512f() && D % 16 == 0 && page % 16 == 0; }

namespace {

// Tokens fetched ahead of the scores: 64 (two lines of a bf16 head row, four of an f32 one, keys
// and values) keeps the memory busy while the scores of the tokens before them run.
constexpr int64_t kAhead = 64;

// 16 elements at e as floats (a bf16 widened exactly: its bits are a float's upper half).
template <typename E>
TESSERA_AVX512F inline __m512 load16(const E* e) {
  if constexpr (std::is_same_v<E, float>) {
    return _mm512_loadu_ps(e);
  } else {
    // (The maskz forms with every lane kept: GCC 12's plain forms trip -Wuninitialized.)
    constexpr __mmask16 all = 0xFFFF;
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(all, _mm512_maskz_cvtepu16_epi32(all, h), 16));
  }
}

// The 16 tokens [t0, t0 + 16) of ctx (t0 a multiple of 16, so one page holds them): rows[j] the
// row of token t0 + j, or, past n, of token n - 1 (read for lanes whose weights are zero).
template <typename E>
inline void token_rows(const E* (&rows)[16], const E* const* pages, const PagedContext<E>& ctx, int64_t t0,
                       int64_t n) {
  const E* first = pages[t0 / ctx.page] + (t0 % ctx.page) * ctx.ld;
  for (int64_t j = 0; j < 16; ++j) rows[j] = first + std::min(j, n - 1 - t0) * ctx.ld;
}

// Hints the keys and values of tokens [t0, t0 + 16) into L2 (t0 < n, a multiple of 16).
template <typename E>
inline void prefetch_run(const PagedContext<E>& ctx, int64_t t0, int64_t n, int64_t D) {
  const int64_t bytes = D * static_cast<int64_t>(sizeof(E)), len = std::min<int64_t>(16, n - t0);
  for (const E* const* pages : {ctx.keys, ctx.values}) {
    const char* first = reinterpret_cast<const char*>(pages[t0 / ctx.page] + (t0 % ctx.page) * ctx.ld);
    for (int64_t j = 0; j < len; ++j) {
      const char* row = first + j * ctx.ld * static_cast<int64_t>(sizeof(E));
      for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T1);
    }
  }
}

template <typename E>
TESSERA_AVX512F void scores_kernel(float* scores, int64_t lds, const float* q, int64_t ldq, int64_t M,
                                   const PagedContext<E>& ctx, int64_t n, int64_t D) {
  for (int64_t t = 0; t < std::min(n, kAhead); t += 16) prefetch_run(ctx, t, n, D);
  for (int64_t t0 = 0; t0 < n; t0 += 16) {
    if (t0 + kAhead < n) prefetch_run(ctx, t0 + kAhead, n, D);
    const E* rows[16];
    token_rows(rows, ctx.keys, ctx, t0, n);
    for (int64_t i = 0; i < M; ++i) {
      __m512 acc[16];
      for (__m512& a : acc) a = _mm512_setzero_ps();
      for (int64_t d = 0; d < D; d += 16) {
        const __m512 qv = _mm512_loadu_ps(q + i * ldq + d);
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(qv, load16(rows[j] + d), acc[j]);
      }
      _mm512_storeu_ps(scores + i * lds + t0, reduce_trees(acc));
    }
  }
}

template <typename E>
TESSERA_AVX512F void values_kernel(float* out, int64_t ldo, const float* p, int64_t ldp, int64_t M,
                                   const PagedContext<E>& ctx, int64_t n, int64_t D) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t d = 0; d < D; d += 16) {
      __m512 acc[16];  // lane j: the tokens t = j mod 16
      for (__m512& a : acc) a = _mm512_setzero_ps();
      for (int64_t t0 = 0; t0 < n; t0 += 16) {
        const E* rows[16];
        token_rows(rows, ctx.values, ctx, t0, n);
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 16; ++j) {
          acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(p[i * ldp + t0 + j]), load16(rows[j] + d), acc[j]);
        }
      }
      _mm512_storeu_ps(out + i * ldo + d, reduce_vectors(acc));
    }
  }
}

}  // namespace

template <typename E>
void scores_avx512(float* scores, int64_t lds, const float* q, int64_t ldq, int64_t M, const PagedContext<E>& ctx,
                   int64_t n, int64_t D) {
  scores_kernel(scores, lds, q, ldq, M, ctx, n, D);
}

template <typename E>
void values_avx512(float* out, int64_t ldo, const float* p, int64_t ldp, int64_t M, const PagedContext<E>& ctx,
                   int64_t n, int64_t D) {
  values_kernel(out, ldo, p, ldp, M, ctx, n, D);
}

template void scores_avx512(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<float>&, int64_t,
                            int64_t);
template void scores_avx512(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<bf16>&, int64_t,
                            int64_t);
template void values_avx512(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<float>&, int64_t,
                            int64_t);
template void values_avx512(float*, int64_t, const float*, int64_t, int64_t, const PagedContext<bf16>&, int64_t,
                            int64_t);

}  // namespace tessera::core::cpu::paged
