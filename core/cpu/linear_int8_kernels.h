#pragma once
// Internal to linear_int8*.cpp: the per-tile kernels (one 64-channel tile, all rows) that the
// driver in linear_int8.cpp runs in parallel over tiles, and the shared epilogue.
#include <cstdint>

#include "core/cpu/quant.h"

namespace tessera::core::cpu::int8 {

struct Rows {             // the quantised activations
  const uint8_t* xu;      // (N, ldx) u8
  int64_t ldx;            // = Cp
  const float* sx;        // (N)
  const int32_t* zp;      // (N)
  int64_t N;
};

struct Output {
  float* out;             // (N, OC)
  const float* bias;      // (OC) or null
  const float* residual;  // (N, OC) or null
};

// Channels [64 * tile, 64 * tile + 64) of every row.
using TileKernel = void (*)(const QuantizedWeight& w, int64_t tile, const Rows& x, const Output& y);

void tile_portable(const QuantizedWeight& w, int64_t tile, const Rows& x, const Output& y);
void tile_avx512_vnni(const QuantizedWeight& w, int64_t tile, const Rows& x, const Output& y);
void tile_avx_vnni(const QuantizedWeight& w, int64_t tile, const Rows& x, const Output& y);

// Row r's outputs of channels [o0, o0 + n) from their integer sums acc (n); the one place that does
// float arithmetic, inlined (and vectorised) into each kernel. Files including this are compiled
// with -ffp-contract=off, so the float operations are the same on every ISA.
inline void epilogue(const QuantizedWeight& w, const Rows& x, const Output& y, int64_t r,
                     int64_t o0, int64_t n, const int32_t* acc) {
  const int64_t OC = w.OC;
  const float sx = x.sx[r];
  const int32_t zp = x.zp[r];
  const float* scale = w.scales.data() + o0;
  const int32_t* wsum = w.wsum.data() + o0;
  float* out = y.out + r * OC + o0;
  const float* bias = y.bias ? y.bias + o0 : nullptr;
  const float* res = y.residual ? y.residual + r * OC + o0 : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(acc[i] - zp * wsum[i]) * (sx * scale[i]);
    out[i] = v + (bias ? bias[i] : 0.0f);
  }
  if (res) {
    for (int64_t i = 0; i < n; ++i) out[i] = out[i] + res[i];
  }
}

}  // namespace tessera::core::cpu::int8
