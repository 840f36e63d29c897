// The bf16 linear layer: conversion, the portable kernel (vdpbf16ps emulated) and the driver that
// splits the output channels over threads. See core/cpu/linear_bf16.h.
#include "core/cpu/linear_bf16.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/cpu/parallel.h"
#include "core/cpu/rowwise_tiles.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

bool bf16_isa_supported(Bf16Isa isa) {
  return isa != Bf16Isa::avx512_bf16 || rowwise::have_avx512_bf16();
}

Bf16Isa bf16_best_isa() { return rowwise::have_avx512_bf16() ? Bf16Isa::avx512_bf16 : Bf16Isa::portable; }

const char* bf16_isa_name(Bf16Isa isa) {
  switch (isa) {
    case Bf16Isa::best: return bf16_isa_name(bf16_best_isa());
    case Bf16Isa::avx512_bf16: return "avx512_bf16";
    case Bf16Isa::portable: return "portable";
  }
  return "?";
}

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if (std::isnan(x)) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  if (std::fabs(x) < FLT_MIN) return static_cast<uint16_t>((u >> 16) & 0x8000);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

Bf16Weight to_bf16_weight(const float* weight, int64_t OC, int64_t C) {
  TESSERA_CHECK(OC > 0 && C > 0, "to_bf16_weight: empty weight ({}, {})", OC, C);
  Bf16Weight w;
  w.OC = OC;
  w.C = C;
  w.Cp = (C + kBf16BlockK - 1) / kBf16BlockK * kBf16BlockK;
  w.values.assign(static_cast<size_t>(OC * w.Cp), 0);
  bool finite = true;
  for (int64_t o = 0; o < OC; ++o) {
    for (int64_t k = 0; k < C; ++k) {
      const float v = weight[o * C + k];
      finite = finite && std::isfinite(v);
      w.values[static_cast<size_t>(o * w.Cp + k)] = to_bf16(v);
    }
  }
  TESSERA_CHECK(finite, "to_bf16_weight: the ({}, {}) weight holds NaN or Inf", OC, C);
  return w;
}

namespace {

inline float flush(float v) { return std::fabs(v) < FLT_MIN ? 0.0f * v : v; }  // keeps the sign of zero

// vdpbf16ps on 16 lanes, then the lanes' tree: the portable oracle of the avx512_bf16 tile.
float dot_portable(const uint16_t* x, const uint16_t* w, int64_t Cp) {
  float acc[16] = {};
  for (int64_t k = 0; k < Cp; k += kBf16BlockK) {
    for (int l = 0; l < 16; ++l) {
      const int64_t i = k + 2 * l;
      acc[l] = flush(acc[l] + from_bf16(x[i + 1]) * from_bf16(w[i + 1]));
      acc[l] = flush(acc[l] + from_bf16(x[i]) * from_bf16(w[i]));
    }
  }
  return reduce_lanes(acc, std::plus<float>());
}

// Channels [o0, o1) of rows [0, N): dot products into out (N, OC).
void dots(float* out, const uint16_t* xb, const Bf16Weight& w, int64_t N, int64_t o0, int64_t o1, bool avx512) {
  const int64_t Cp = w.Cp, OC = w.OC;
  for (int64_t o = o0; o < o1; o += rowwise::kTileCols) {
    const int64_t nj = std::min(rowwise::kTileCols, o1 - o);
    for (int64_t r = 0; r < N; r += rowwise::kTileRows) {
      const int64_t nr = std::min(rowwise::kTileRows, N - r);
      if (avx512) {
        rowwise::tile_bf16_avx512(out + r * OC + o, OC, xb + r * Cp, Cp, w.values.data() + o * Cp, Cp, nr, nj, Cp);
        continue;
      }
      for (int64_t i = 0; i < nr; ++i) {
        for (int64_t j = 0; j < nj; ++j) {
          out[(r + i) * OC + o + j] = dot_portable(xb + (r + i) * Cp, w.values.data() + (o + j) * Cp, Cp);
        }
      }
    }
  }
}

}  // namespace

void linear_bf16_forward(float* out, const float* inp, const Bf16Weight& w, const float* bias,
                         const float* residual, int64_t N, Bf16Isa isa) {
  TESSERA_CHECK(N >= 0 && w.OC > 0 && w.C > 0, "bf16 linear: bad shapes N={} ({}, {})", N, w.OC, w.C);
  if (isa == Bf16Isa::best) isa = bf16_best_isa();
  TESSERA_CHECK(bf16_isa_supported(isa), "bf16 linear: this CPU does not support {}", bf16_isa_name(isa));
  const int64_t C = w.C, Cp = w.Cp, OC = w.OC;
  thread_local std::vector<uint16_t, CacheAligned<uint16_t>> xb;  // (N, Cp) the rows in bf16
  xb.assign(static_cast<size_t>(N * Cp), 0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < C; ++k) xb[static_cast<size_t>(n * Cp + k)] = to_bf16(inp[n * C + k]);
  }
  const uint16_t* x = xb.data();
  constexpr int64_t kBlock = 64;  // channels per thread block: each weight row read once
  const bool avx512 = isa == Bf16Isa::avx512_bf16;
#pragma omp parallel for schedule(static) if (parallel_worth(N * OC * C))
  for (int64_t o0 = 0; o0 < OC; o0 += kBlock) {
    const int64_t o1 = std::min(OC, o0 + kBlock);
    dots(out, x, w, N, o0, o1, avx512);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t o = o0; o < o1; ++o) {
        float v = out[n * OC + o];
        if (bias) v = v + bias[o];
        if (residual) v = v + residual[n * OC + o];
        out[n * OC + o] = v;
      }
    }
  }
}

}  // namespace tessera::core::cpu
