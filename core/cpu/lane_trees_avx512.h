#pragma once
// Internal to the AVX-512 kernels whose sums keep the order of the one-row path (rowwise tiles,
// paged attention): 16 lanes summed as reduce_lanes' halving tree (lane l with l + 8, then l + 4,
// l + 2, l + 1). Compiled with per-function target attributes, called only where the CPU has
// AVX-512F.
#include <immintrin.h>

#define TESSERA_AVX512F __attribute__((target("avx512f")))

namespace tessera::core::cpu::rowwise {

// The 16 lanes of each of v[0..16) summed as reduce_lanes' halving tree (lane l with l + 8, then
// l + 4, l + 2, l + 1), all 16 trees at once: each level adds the same pairs of partial sums as the
// scalar tree, packed two inputs per vector by shuffles (float addition commutes, so the bits are
// the scalar tree's). Lane l of the result is the sum of v[l].
TESSERA_AVX512F inline __m512 reduce_trees(const __m512 (&v)[16]) {
  // Input order so that the result comes out in lane order: the levels below leave the sum of
  // input q + 4m in lane 4q + m.
  // (The maskz forms with every lane kept: GCC 12's plain forms trip -Wuninitialized.)
  constexpr __mmask16 all = 0xFFFF;
  __m512 u[8], w[4], z[2];
  for (int i = 0; i < 8; ++i) {  // lanes l + l+8: two inputs' 8 partial sums per vector
    const int a = 2 * i, b = 2 * i + 1;
    const __m512 va = v[4 * (a % 4) + a / 4], vb = v[4 * (b % 4) + b / 4];
    u[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(all, va, vb, 0x44), _mm512_maskz_shuffle_f32x4(all, va, vb, 0xEE));
  }
  for (int i = 0; i < 4; ++i) {  // + l+4: four inputs' 4 partial sums, one input per 128-bit quad
    w[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(all, u[2 * i], u[2 * i + 1], 0x88),
                         _mm512_maskz_shuffle_f32x4(all, u[2 * i], u[2 * i + 1], 0xDD));
  }
  for (int i = 0; i < 2; ++i) {  // + l+2: within each quad, two inputs' 2 partial sums
    z[i] = _mm512_add_ps(_mm512_maskz_shuffle_ps(all, w[2 * i], w[2 * i + 1], 0x44),
                         _mm512_maskz_shuffle_ps(all, w[2 * i], w[2 * i + 1], 0xEE));
  }
  // + l+1: within each quad, four inputs' sums
  return _mm512_add_ps(_mm512_maskz_shuffle_ps(all, z[0], z[1], 0x88), _mm512_maskz_shuffle_ps(all, z[0], z[1], 0xDD));
}

// The halving tree of v[0..16) lane by lane: lane d of the result is the tree sum of the 16
// vectors' lane d (reduce_value_lanes' order); v destroyed.
TESSERA_AVX512F inline __m512 reduce_vectors(__m512 (&v)[16]) {
  for (int width = 8; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) v[l] = _mm512_add_ps(v[l], v[l + width]);
  }
  return v[0];
}

}  // namespace tessera::core::cpu::rowwise
