#include "core/cpu/bf16_round.h"

#include <algorithm>

#include "core/cpu/parallel.h"

namespace tessera::core::cpu {

namespace {

inline uint16_t round_one(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  return static_cast<uint16_t>(nan ? (u >> 16) | 0x40u : rounded);
}

}  // namespace

void round_to_bf16(uint16_t* out, const float* x, int64_t n) {
#pragma omp parallel for simd if (n >= (int64_t{1} << 15))
  for (int64_t i = 0; i < n; ++i) out[i] = round_one(x[i]);
}

void round_to_bf16_transposed(uint16_t* out, const float* x, int64_t rows, int64_t cols) {
  constexpr int64_t kBand = 16;  // source rows read side by side: each destination row gets 16 values per visit
#pragma omp parallel for if (parallel_worth(rows * cols))
  for (int64_t r0 = 0; r0 < rows; r0 += kBand) {
    const int64_t nr = std::min(kBand, rows - r0);
    for (int64_t c = 0; c < cols; ++c) {
      for (int64_t r = 0; r < nr; ++r) out[c * rows + r0 + r] = round_one(x[(r0 + r) * cols + c]);
    }
  }
}

void widen_from_bf16(float* out, const uint16_t* x, int64_t n, float scale) {
#pragma omp parallel for simd if (n >= (int64_t{1} << 15))
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = static_cast<uint32_t>(x[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    out[i] = f * scale;
  }
}

}  // namespace tessera::core::cpu
