#include "core/cpu/quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/cpu/parallel.h"
#include "core/error.h"

namespace tessera::core::cpu {

QuantizedWeight quantize_weight(const float* weight, int64_t OC, int64_t C) {
  TESSERA_CHECK(OC > 0 && C > 0, "quantize_weight: empty weight ({}, {})", OC, C);
  TESSERA_CHECK(C <= kInt8MaxC, "quantize_weight: C = {} exceeds {} (int32 dot products)", C,
                kInt8MaxC);
  QuantizedWeight w;
  w.OC = OC;
  w.C = C;
  w.OCp = (OC + kInt8PadOC - 1) / kInt8PadOC * kInt8PadOC;
  w.Cp = (C + kInt8GroupK - 1) / kInt8GroupK * kInt8GroupK;
  w.values.assign(static_cast<size_t>(w.OCp * w.Cp), 0);
  w.scales.assign(static_cast<size_t>(w.OCp), 0.0f);
  w.wsum.assign(static_cast<size_t>(w.OCp), 0);
  bool finite = true;
#pragma omp parallel for reduction(&& : finite) if (parallel_worth(OC * C))
  for (int64_t o = 0; o < OC; ++o) {
    const float* row = weight + o * C;  // (C)
    float amax = 0.0f;
    for (int64_t k = 0; k < C; ++k) {
      finite = finite && std::isfinite(row[k]);
      amax = std::max(amax, std::abs(row[k]));
    }
    if (!finite || amax < 127.0f * FLT_MIN) continue;
    const float scale = amax / 127.0f;
    int32_t sum = 0;
    for (int64_t k = 0; k < C; ++k) {
      const float q = std::nearbyint(row[k] / scale);
      const int8_t v = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
      w.values[w.index(o, k)] = v;
      sum += v;
    }
    w.scales[static_cast<size_t>(o)] = scale;
    w.wsum[static_cast<size_t>(o)] = sum;
  }
  TESSERA_CHECK(finite, "quantize_weight: the ({}, {}) weight holds NaN or Inf", OC, C);
  return w;
}

std::vector<float> dequantize_weight(const QuantizedWeight& w) {
  std::vector<float> out(static_cast<size_t>(w.OC * w.C));  // (OC, C)
  for (int64_t o = 0; o < w.OC; ++o) {
    for (int64_t k = 0; k < w.C; ++k) {
      out[static_cast<size_t>(o * w.C + k)] = static_cast<float>(w.at(o, k)) * w.scales[static_cast<size_t>(o)];
    }
  }
  return out;
}

}  // namespace tessera::core::cpu
