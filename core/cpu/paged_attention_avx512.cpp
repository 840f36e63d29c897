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

// How far ahead of the scores the keys and values are fetched: 64 tokens (16 KB of bf16 rows, 32
// KB of f32 ones, at D = 64) keep the memory busy while the tokens before them are scored.
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

// Walks a context 16 tokens at a time (a page holds a whole number of such runs), without a
// division per run: page, the index of the run's page; at, the run's first token in it.
struct Runs {
  int64_t page = 0, at = 0;
  void next(int64_t page_tokens) {
    at += 16;
    if (at == page_tokens) at = 0, ++page;
  }
};

// The first row of the run at cursor c of pages; its token j's row lies j * ld further.
template <typename E>
inline const E* run_start(const E* const* pages, const PagedContext<E>& ctx, const Runs& c) {
  return pages[c.page] + c.at * ctx.ld;
}

// The row of token j + 1 after row, the row of token j of a run of len tokens; past the last
// token, the last token's row again (read for lanes whose results are not used or whose weights
// are zero). Full runs (len 16, known at compile time) walk on without a check.
template <bool kFull, typename E>
inline const E* next_row(const E* row, int64_t ld, int j, int64_t len) {
  return kFull || j + 1 < len ? row + ld : row;
}

// Hints the keys and values of the len tokens of the run at cursor c into L1.
template <typename E>
inline void prefetch_run(const PagedContext<E>& ctx, const Runs& c, int64_t len, int64_t D) {
  const int64_t bytes = D * static_cast<int64_t>(sizeof(E)), stride = ctx.ld * static_cast<int64_t>(sizeof(E));
  for (const E* const* pages : {ctx.keys, ctx.values}) {
    const char* first = reinterpret_cast<const char*>(run_start(pages, ctx, c));
    for (int64_t j = 0; j < len; ++j) {
      for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(first + j * stride + b, _MM_HINT_T0);
    }
  }
}

// scores (M, lds) [t0, t0 + 16) = q (M, ldq) . the keys of the run of len tokens at first.
template <bool kFull, typename E>
TESSERA_AVX512F inline void score_run(float* scores, int64_t lds, const float* q, int64_t ldq, int64_t M,
                                      const E* first, int64_t ld, int64_t len, int64_t D) {
  for (int64_t i = 0; i < M; ++i) {
    __m512 acc[16];
    for (__m512& a : acc) a = _mm512_setzero_ps();
    for (int64_t d = 0; d < D; d += 16) {
      const __m512 qv = _mm512_loadu_ps(q + i * ldq + d);
      const E* row = first + d;
      _Pragma("GCC unroll 16")
      for (int j = 0; j < 16; ++j) {
        acc[j] = _mm512_fmadd_ps(qv, load16(row), acc[j]);
        row = next_row<kFull>(row, ld, j, len);
      }
    }
    _mm512_storeu_ps(scores + i * lds, reduce_trees(acc));
  }
}

template <typename E>
TESSERA_AVX512F void scores_kernel(float* scores, int64_t lds, const float* q, int64_t ldq, int64_t M,
                                   const PagedContext<E>& ctx, int64_t n, int64_t D) {
  Runs ahead;
  for (int64_t t = 0; t < std::min(n, kAhead); t += 16, ahead.next(ctx.page)) {
    prefetch_run(ctx, ahead, std::min<int64_t>(16, n - t), D);
  }
  Runs c;
  for (int64_t t0 = 0; t0 < n; t0 += 16, c.next(ctx.page)) {
    if (t0 + kAhead < n) {
      prefetch_run(ctx, ahead, std::min<int64_t>(16, n - t0 - kAhead), D);
      ahead.next(ctx.page);
    }
    const E* first = run_start(ctx.keys, ctx, c);
    if (n - t0 >= 16) {
      score_run<true>(scores + t0, lds, q, ldq, M, first, ctx.ld, 16, D);
    } else {
      score_run<false>(scores + t0, lds, q, ldq, M, first, ctx.ld, n - t0, D);
    }
  }
}

// acc[j] += p[j] * the values [d, d + 16) of token j of the run of len tokens at first.
template <bool kFull, typename E>
TESSERA_AVX512F inline void weigh_run(__m512 (&acc)[16], const float* p, const E* first, int64_t ld, int64_t len) {
  const E* row = first;
  _Pragma("GCC unroll 16")
  for (int j = 0; j < 16; ++j) {
    acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), load16(row), acc[j]);
    row = next_row<kFull>(row, ld, j, len);
  }
}

template <typename E>
TESSERA_AVX512F void values_kernel(float* out, int64_t ldo, const float* p, int64_t ldp, int64_t M,
                                   const PagedContext<E>& ctx, int64_t n, int64_t D) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t d = 0; d < D; d += 16) {
      __m512 acc[16];  // lane j: the tokens t = j mod 16
      for (__m512& a : acc) a = _mm512_setzero_ps();
      Runs c;
      for (int64_t t0 = 0; t0 < n; t0 += 16, c.next(ctx.page)) {
        const E* first = run_start(ctx.values, ctx, c) + d;
        if (n - t0 >= 16) {
          weigh_run<true>(acc, p + i * ldp + t0, first, ctx.ld, 16);
        } else {
          weigh_run<false>(acc, p + i * ldp + t0, first, ctx.ld, n - t0);
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
