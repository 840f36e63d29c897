// AVX-512 register tiles of the batch-invariant linear layers (core/cpu/rowwise_tiles.h).
// Compiled for the baseline with per-function target attributes, chosen at run time.
#include <immintrin.h>

#include "core/cpu/lane_trees_avx512.h"
#include "core/cpu/rowwise_tiles.h"

#define TESSERA_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

namespace tessera::core::cpu::rowwise {

bool have_avx512f() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
#else
  return false;
#endif
}

bool have_avx512_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512bf16");
  return yes;
#else
  return false;
#endif
}

namespace {

// out[r * ldo + j] = the tree sum of acc[r][j].
template <int R, int J>
TESSERA_AVX512F inline void store_sums(float* out, int64_t ldo, const __m512 (&acc)[R][J]) {
  __m512 v[16];
  for (int i = 0; i < 16; ++i) v[i] = _mm512_setzero_ps();
  _Pragma("GCC unroll 4")
  for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) v[4 * r + j] = acc[r][j];
  }
  alignas(64) float sums[16];
  _mm512_store_ps(sums, reduce_trees(v));
  _Pragma("GCC unroll 4")
  for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) out[r * ldo + j] = sums[4 * r + j];
  }
}

// One row (decode at batch 1) streams each weight once: the hardware prefetcher alone leaves the
// core waiting on memory at the start of every tile. Fetch the next tile's rows (the J rows after
// these, which the caller takes next) at the same k: a tile ahead, enough lines in flight. A hint
// only; it never faults, past the end of w included.
template <typename T>
inline void prefetch_next_tile(const T* w, int64_t ldw, int J, int64_t k) {
  for (int j = 0; j < J; ++j) _mm_prefetch(reinterpret_cast<const char*>(w + (J + j) * ldw + k), _MM_HINT_T0);
}

// Steps of 16 along k; the last one masked: its lanes past K load zeros, which leave the
// accumulators as they are. (One loop in one function: the accumulators stay in registers.) The
// lanes start from zero (first) or from lanes; they end as sums in out (last) or back in lanes.
template <int R, int J>
TESSERA_AVX512F void f32_tile(float* out, int64_t ldo, float* lanes, const float* x, int64_t ldx, const float* w,
                              int64_t ldw, int64_t K, bool first, bool last) {
  __m512 acc[R][J];
  _Pragma("GCC unroll 4")
  for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) acc[r][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(lanes + (r * J + j) * 16);
  }
  for (int64_t k = 0; k < K; k += 16) {
    const __mmask16 m = K - k >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (K - k)) - 1);
    prefetch_next_tile(w, ldw, J, k);
    __m512 wv[J];
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) wv[j] = _mm512_maskz_loadu_ps(m, w + j * ldw + k);
    _Pragma("GCC unroll 4")
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * ldx + k);
      _Pragma("GCC unroll 4")
      for (int j = 0; j < J; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  if (last) {
    store_sums<R, J>(out, ldo, acc);
    return;
  }
  _Pragma("GCC unroll 4")
  for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) _mm512_storeu_ps(lanes + (r * J + j) * 16, acc[r][j]);
  }
}

template <int R, int J>
TESSERA_AVX512BF16 void bf16_tile(float* out, int64_t ldo, const uint16_t* x, int64_t ldx, const uint16_t* w,
                                  int64_t ldw, int64_t K) {
  __m512 acc[R][J];
  _Pragma("GCC unroll 4")
  for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; k += 32) {
    if constexpr (R == 1) prefetch_next_tile(w, ldw, J, k);
    __m512bh wv[J];
    _Pragma("GCC unroll 4")
    for (int j = 0; j < J; ++j) wv[j] = (__m512bh)_mm512_loadu_si512(w + j * ldw + k);
    _Pragma("GCC unroll 4")
    for (int r = 0; r < R; ++r) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + r * ldx + k);
      _Pragma("GCC unroll 4")
      for (int j = 0; j < J; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv, wv[j]);
    }
  }
  store_sums<R, J>(out, ldo, acc);
}

// The instantiation for (R, J), R and J in [1, 4].
template <typename Fn, template <int, int> class Pick>
Fn pick(int64_t R, int64_t J) {
  static const Fn table[4][4] = {
      {Pick<1, 1>::fn, Pick<1, 2>::fn, Pick<1, 3>::fn, Pick<1, 4>::fn},
      {Pick<2, 1>::fn, Pick<2, 2>::fn, Pick<2, 3>::fn, Pick<2, 4>::fn},
      {Pick<3, 1>::fn, Pick<3, 2>::fn, Pick<3, 3>::fn, Pick<3, 4>::fn},
      {Pick<4, 1>::fn, Pick<4, 2>::fn, Pick<4, 3>::fn, Pick<4, 4>::fn}};
  return table[R - 1][J - 1];
}

using F32Fn = void (*)(float*, int64_t, float*, const float*, int64_t, const float*, int64_t, int64_t, bool, bool);
using Bf16Fn = void (*)(float*, int64_t, const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t);
template <int R, int J> struct PickF32 { static constexpr F32Fn fn = f32_tile<R, J>; };
template <int R, int J> struct PickBf16 { static constexpr Bf16Fn fn = bf16_tile<R, J>; };

}  // namespace

void tile_f32_avx512(float* out, int64_t ldo, float* lanes, const float* x, int64_t ldx, const float* w,
                     int64_t ldw, int64_t R, int64_t J, int64_t K, bool first, bool last) {
  pick<F32Fn, PickF32>(R, J)(out, ldo, lanes, x, ldx, w, ldw, K, first, last);
}

void tile_bf16_avx512(float* out, int64_t ldo, const uint16_t* x, int64_t ldx, const uint16_t* w,
                      int64_t ldw, int64_t R, int64_t J, int64_t K) {
  pick<Bf16Fn, PickBf16>(R, J)(out, ldo, x, ldx, w, ldw, K);
}

}  // namespace tessera::core::cpu::rowwise
