#include "core/cpu/bf16_round.h"

#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

namespace {

inline uint16_t round_one(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  return static_cast<uint16_t>(nan ? (u >> 16) | 0x40u : rounded);
}

TESSERA_SIMD_CLONES void round_chunk(uint16_t* out, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = round_one(x[i]);
}

TESSERA_SIMD_CLONES void widen_chunk(float* out, const uint16_t* x, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = static_cast<uint32_t>(x[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    out[i] = f * scale;
  }
}

}  // namespace

void round_to_bf16(uint16_t* out, const float* x, int64_t n) {
  parallel_chunks(n, [&](int64_t i, int64_t m) { round_chunk(out + i, x + i, m); });
}

void round_to_bf16_serial(uint16_t* out, const float* x, int64_t n) { round_chunk(out, x, n); }

void widen_from_bf16(float* out, const uint16_t* x, int64_t n, float scale) {
  parallel_chunks(n, [&](int64_t i, int64_t m) { widen_chunk(out + i, x + i, m, scale); });
}

}  // namespace tessera::core::cpu
