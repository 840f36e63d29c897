// The int8 linear layer's driver: run-time kernel choice, activation quantisation, the portable
// kernel (the oracle), and the parallel loop over channel tiles. See core/cpu/linear_int8.h.
#include "core/cpu/linear_int8.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/linear_int8_kernels.h"
#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

bool int8_isa_supported(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::best:
    case Int8Isa::portable: return true;
#if defined(__x86_64__) && defined(__GNUC__)
    case Int8Isa::avx512_vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
    case Int8Isa::avx_vnni: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni");
#else
    default: return false;
#endif
  }
  return false;
}

Int8Isa int8_best_isa() {
  static const Int8Isa best = int8_isa_supported(Int8Isa::avx512_vnni) ? Int8Isa::avx512_vnni
                              : int8_isa_supported(Int8Isa::avx_vnni)  ? Int8Isa::avx_vnni
                                                                       : Int8Isa::portable;
  return best;
}

const char* int8_isa_name(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::best: return int8_isa_name(int8_best_isa());
    case Int8Isa::avx512_vnni: return "avx512_vnni";
    case Int8Isa::avx_vnni: return "avx_vnni";
    case Int8Isa::portable: return "portable";
  }
  return "?";
}

namespace {

// One row x (C) -> xu (Cp), *sx, *zp. Lane-split minima/maxima so that the loop vectorises.
TESSERA_SIMD_CLONES void quantize_row(uint8_t* xu, float* sx, int32_t* zp, const float* x, int64_t C,
                                      int64_t Cp) {
  constexpr int kLanes = 16;
  float lo[kLanes] = {}, hi[kLanes] = {}, bad[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= C; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float v = x[k + l];
      lo[l] = v < lo[l] ? v : lo[l];
      hi[l] = v > hi[l] ? v : hi[l];
      bad[l] = (v - v == 0.0f) ? bad[l] : 1.0f;  // v - v is NaN for NaN and Inf
    }
  }
  for (int l = 0; k < C; ++k, ++l) {
    const float v = x[k];
    lo[l] = v < lo[l] ? v : lo[l];
    hi[l] = v > hi[l] ? v : hi[l];
    bad[l] = (v - v == 0.0f) ? bad[l] : 1.0f;
  }
  const float mn = reduce_lanes(lo, [](float a, float b) { return a < b ? a : b; });
  const float mx = reduce_lanes(hi, [](float a, float b) { return a > b ? a : b; });
  const bool nonfinite = reduce_lanes(bad, [](float a, float b) { return a > b ? a : b; }) != 0.0f;
  const float scale = mx / 255.0f - mn / 255.0f;
  if (nonfinite || !(scale >= FLT_MIN)) {
    std::fill(xu, xu + Cp, uint8_t{0});
    *sx = nonfinite ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
    *zp = 0;
    return;
  }
  const float inv = 1.0f / scale;
  const int32_t z = std::clamp(static_cast<int32_t>(std::nearbyint(-mn * inv)), 0, 255);
  for (k = 0; k < C; ++k) {
    const int32_t q = static_cast<int32_t>(std::nearbyint(x[k] * inv)) + z;
    xu[k] = static_cast<uint8_t>(std::clamp(q, 0, 255));
  }
  std::fill(xu + C, xu + Cp, uint8_t{0});
  *sx = scale;
  *zp = z;
}

// Up to 4 panels (64 channels) x 1 row: 16 integer sums per panel, 4 products each per group.
TESSERA_SIMD_CLONES void dot_panels(int32_t* acc, const int8_t* panel, int64_t panel_stride,
                                    int64_t G, const uint8_t* xu) {
  for (int b = 0; b < 4; ++b) {
    int32_t a[16] = {};
    const int8_t* p = panel + b * panel_stride;
    for (int64_t g = 0; g < G; ++g) {
      const int32_t x0 = xu[4 * g], x1 = xu[4 * g + 1], x2 = xu[4 * g + 2], x3 = xu[4 * g + 3];
      const int8_t* q = p + g * 64;
      for (int l = 0; l < 16; ++l) {
        a[l] += x0 * q[4 * l] + x1 * q[4 * l + 1] + x2 * q[4 * l + 2] + x3 * q[4 * l + 3];
      }
    }
    std::copy(a, a + 16, acc + 16 * b);
  }
}

}  // namespace

void quantize_rows(uint8_t* xu, float* sx, int32_t* zp, const float* inp, int64_t N, int64_t C,
                   int64_t Cp) {
#pragma omp parallel for if (parallel_worth(N * C * 8))
  for (int64_t n = 0; n < N; ++n) quantize_row(xu + n * Cp, sx + n, zp + n, inp + n * C, C, Cp);
}

namespace int8 {

void tile_portable(const QuantizedWeight& w, int64_t tile, const Rows& x, const Output& y) {
  const int64_t G = w.Cp / kInt8GroupK, panel_stride = G * 64, o0 = tile * kInt8PadOC;
  const int8_t* panel = w.values.data() + (o0 / kInt8PanelOC) * panel_stride;
  const int64_t n = std::min(kInt8PadOC, w.OC - o0);
  int32_t acc[kInt8PadOC];
  for (int64_t r = 0; r < x.N; ++r) {
    dot_panels(acc, panel, panel_stride, G, x.xu + r * x.ldx);
    epilogue(w, x, y, r, o0, n, acc);
  }
}

}  // namespace int8

namespace {

int8::TileKernel kernel_for(Int8Isa isa) {
  if (isa == Int8Isa::best) isa = int8_best_isa();
  TESSERA_CHECK(int8_isa_supported(isa), "int8 linear: this CPU does not support {}",
                int8_isa_name(isa));
  switch (isa) {
    case Int8Isa::avx512_vnni: return int8::tile_avx512_vnni;
    case Int8Isa::avx_vnni: return int8::tile_avx_vnni;
    default: return int8::tile_portable;
  }
}

}  // namespace

void linear_int8_forward_residual(float* out, const float* inp, const QuantizedWeight& w,
                                  const float* bias, const float* residual, int64_t N, Int8Isa isa) {
  TESSERA_CHECK(N >= 0 && w.OC > 0 && w.C > 0, "int8 linear: bad shapes N={} ({}, {})", N, w.OC, w.C);
  const int8::TileKernel kernel = kernel_for(isa);
  if (N == 0) return;
  // Scratch kept per thread across calls: no allocation (or page faults) per decode step.
  thread_local std::vector<uint8_t, CacheAligned<uint8_t>> xu;
  thread_local std::vector<float> sx;
  thread_local std::vector<int32_t> zp;
  xu.resize(static_cast<size_t>(N * w.Cp));
  sx.resize(static_cast<size_t>(N));
  zp.resize(static_cast<size_t>(N));
  quantize_rows(xu.data(), sx.data(), zp.data(), inp, N, w.C, w.Cp);  // (N, Cp)
  const int8::Rows x{xu.data(), w.Cp, sx.data(), zp.data(), N};
  const int8::Output y{out, bias, residual};
  const int64_t tiles = w.OCp / kInt8PadOC;
#pragma omp parallel for schedule(static) if (parallel_worth(N * w.OCp * w.Cp / 4))
  for (int64_t t = 0; t < tiles; ++t) kernel(w, t, x, y);
}

void linear_int8_forward(float* out, const float* inp, const QuantizedWeight& w, const float* bias,
                         int64_t N, Int8Isa isa) {
  linear_int8_forward_residual(out, inp, w, bias, nullptr, N, isa);
}

}  // namespace tessera::core::cpu
