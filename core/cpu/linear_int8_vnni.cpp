// The int8 linear layer's VNNI kernels (vpdpbusd: u8 x s8, 4 products summed into each int32
// lane). Compiled for the baseline with per-function target attributes and chosen at run time by
// linear_int8.cpp, so the build needs no -march flag. Shapes and arithmetic: core/cpu/linear_int8.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/cpu/linear_int8_kernels.h"

#define TESSERA_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define TESSERA_AVX_VNNI __attribute__((target("avx2,avxvnni")))

namespace tessera::core::cpu::int8 {

namespace {

// Software prefetch of each weight stream this many bytes ahead: decode (N = 1) read weights at
// 14-23 GB/s on one EPYC core without it, 26-34 GB/s with 1024 (512: 23-32, 2048: 28-34).
constexpr int64_t kPrefetch = 1024;

inline int32_t load_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Where a row block fetches weights ahead. The one block of a few rows (decode at batch 1) streams
// its own panels, kPrefetch bytes ahead. With several blocks the tile's panels are read once from
// memory and then from cache: the first block would wait on memory while the others compute, so
// instead every block fetches its share of the next tile's panels (block b of nb the groups
// g = b mod nb), spreading the memory traffic over all of the tile's work.
struct Ahead {
  const int8_t* next;  // the next tile's first panel, or null: own panels ahead
  int64_t block, blocks;
};

// R rows x 64 channels (4 panels): acc (R, 64) int32 over G groups of 4 inputs.
template <int R>
TESSERA_AVX512_VNNI inline void block_512(int32_t* acc, const int8_t* panel, int64_t ps, int64_t G,
                                          const uint8_t* xu, int64_t ldx, const Ahead& ahead) {
  __m512i a[R][4];
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < 4; ++b) a[r][b] = _mm512_setzero_si512();
  }
  for (int64_t g = 0, share = ahead.block; g < G; ++g) {
    const int8_t* p = panel + g * 64;
    if (ahead.next == nullptr) {
      for (int b = 0; b < 4; ++b) _mm_prefetch(reinterpret_cast<const char*>(p + b * ps + kPrefetch), _MM_HINT_T0);
    } else if (share == g) {
      for (int b = 0; b < 4; ++b) _mm_prefetch(reinterpret_cast<const char*>(ahead.next + b * ps + g * 64), _MM_HINT_T0);
      share += ahead.blocks;
    }
    const __m512i w0 = _mm512_load_si512(p), w1 = _mm512_load_si512(p + ps);
    const __m512i w2 = _mm512_load_si512(p + 2 * ps), w3 = _mm512_load_si512(p + 3 * ps);
    for (int r = 0; r < R; ++r) {
      const __m512i xb = _mm512_set1_epi32(load_u32(xu + r * ldx + 4 * g));
      a[r][0] = _mm512_dpbusd_epi32(a[r][0], xb, w0);
      a[r][1] = _mm512_dpbusd_epi32(a[r][1], xb, w1);
      a[r][2] = _mm512_dpbusd_epi32(a[r][2], xb, w2);
      a[r][3] = _mm512_dpbusd_epi32(a[r][3], xb, w3);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < 4; ++b) _mm512_storeu_si512(acc + r * 64 + b * 16, a[r][b]);
  }
}

// R rows x 32 channels (2 panels, 2 ymm each): acc (R, 64) columns [0, 32) of this half.
template <int R>
TESSERA_AVX_VNNI inline void half_256(int32_t* acc, const int8_t* panel, int64_t ps, int64_t G,
                                      const uint8_t* xu, int64_t ldx) {
  __m256i a[R][4];
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < 4; ++b) a[r][b] = _mm256_setzero_si256();
  }
  for (int64_t g = 0; g < G; ++g) {
    const int8_t* p = panel + g * 64;
    _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p + ps + kPrefetch), _MM_HINT_T0);
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i w2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + ps));
    const __m256i w3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + ps + 32));
    for (int r = 0; r < R; ++r) {
      const __m256i xb = _mm256_set1_epi32(load_u32(xu + r * ldx + 4 * g));
      a[r][0] = _mm256_dpbusd_avx_epi32(a[r][0], xb, w0);
      a[r][1] = _mm256_dpbusd_avx_epi32(a[r][1], xb, w1);
      a[r][2] = _mm256_dpbusd_avx_epi32(a[r][2], xb, w2);
      a[r][3] = _mm256_dpbusd_avx_epi32(a[r][3], xb, w3);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < 4; ++b) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * 64 + b * 8), a[r][b]);
    }
  }
}

}  // namespace

TESSERA_AVX512_VNNI void tile_avx512_vnni(const QuantizedWeight& w, int64_t tile, const Rows& x,
                                          const Output& y) {
  constexpr int64_t kRows = 6;  // 6 rows x 4 panels = 24 of the 32 zmm registers
  const int64_t G = w.Cp / kInt8GroupK, ps = G * 64, o0 = tile * kInt8PadOC;
  const int8_t* panel = w.values.data() + (o0 / kInt8PanelOC) * ps;
  const int64_t n = std::min(kInt8PadOC, w.OC - o0);
  const int64_t blocks = (x.N + kRows - 1) / kRows;
  const bool spread = blocks > 1 && o0 + kInt8PadOC < w.OCp;
  const int8_t* next = spread ? panel + (kInt8PadOC / kInt8PanelOC) * ps : nullptr;
  alignas(64) int32_t acc[kRows * 64];
  for (int64_t r0 = 0; r0 < x.N; r0 += kRows) {
    const int64_t nr = std::min(kRows, x.N - r0);
    const uint8_t* xu = x.xu + r0 * x.ldx;
    const Ahead ahead{next, r0 / kRows, blocks};
    switch (nr) {
      case 1: block_512<1>(acc, panel, ps, G, xu, x.ldx, ahead); break;
      case 2: block_512<2>(acc, panel, ps, G, xu, x.ldx, ahead); break;
      case 3: block_512<3>(acc, panel, ps, G, xu, x.ldx, ahead); break;
      case 4: block_512<4>(acc, panel, ps, G, xu, x.ldx, ahead); break;
      case 5: block_512<5>(acc, panel, ps, G, xu, x.ldx, ahead); break;
      default: block_512<6>(acc, panel, ps, G, xu, x.ldx, ahead); break;
    }
    for (int64_t r = 0; r < nr; ++r) epilogue(w, x, y, r0 + r, o0, n, acc + r * 64);
  }
}

TESSERA_AVX_VNNI void tile_avx_vnni(const QuantizedWeight& w, int64_t tile, const Rows& x,
                                    const Output& y) {
  constexpr int64_t kRows = 2;  // 2 rows x 4 ymm accumulators, 4 weights: 13 of 16 registers
  const int64_t G = w.Cp / kInt8GroupK, ps = G * 64, o0 = tile * kInt8PadOC;
  const int8_t* panel = w.values.data() + (o0 / kInt8PanelOC) * ps;
  const int64_t n = std::min(kInt8PadOC, w.OC - o0);
  alignas(64) int32_t acc[kRows * 64];
  for (int64_t r0 = 0; r0 < x.N; r0 += kRows) {
    const int64_t nr = std::min(kRows, x.N - r0);
    const uint8_t* xu = x.xu + r0 * x.ldx;
    for (int h = 0; h < 2; ++h) {  // channels [32h, 32h + 32): panels 2h and 2h + 1
      if (nr == 1) {
        half_256<1>(acc + 32 * h, panel + 2 * h * ps, ps, G, xu, x.ldx);
      } else {
        half_256<2>(acc + 32 * h, panel + 2 * h * ps, ps, G, xu, x.ldx);
      }
    }
    for (int64_t r = 0; r < nr; ++r) epilogue(w, x, y, r0 + r, o0, n, acc + r * 64);
  }
}

}  // namespace tessera::core::cpu::int8
