#pragma once
// BF16 linear layer for serving: out (N, OC) = inp (N, C) f32 @ W^T + bias (+ residual), with W
// stored as bfloat16 (half the bytes of f32: a decode step, which reads every weight once, moves
// half as much memory) and f32 accumulation in one fixed order.
//
// Arithmetic (what AVX512_BF16's vdpbf16ps computes, and the portable kernel emulates):
//   xb = bf16(x) per element (round half to even; magnitudes below FLT_MIN become signed zeros)
//   16 f32 lanes per output; lane l takes the pairs (2l, 2l+1) of each 32-wide block of k:
//     acc[l] = acc[l] + xb[k+2l+1] * w[k+2l+1];  acc[l] = acc[l] + xb[k+2l] * w[k+2l]
//   (each product of two bf16 values is exact in f32; each addition rounds to nearest even),
//   the 16 lanes summed as reduce_lanes' halving tree, then out = (dot + bias) + residual.
// The order depends only on k, never on N or on the other rows: a row's result is the same alone
// or in any batch (batch invariance) and at any thread count. vdpbf16ps also flushes denormal
// sums to zero; the portable kernel does the same after each addition, so the two give the same
// bits except where a single product lies in the denormal range (below 1.2e-38, never met with
// trained weights and activations). tests/unit/core/bf16_test.cpp checks the bits.
//
// Layout: W (OC, Cp) bf16 row-major, C padded with zeros to Cp (a multiple of 32), 64-byte rows.
#include <cstdint>
#include <vector>

#include "core/cpu/quant.h"

namespace tessera::core::cpu {

enum class Bf16Isa { best, avx512_bf16, portable };

bool bf16_isa_supported(Bf16Isa isa);  // best and portable: always
Bf16Isa bf16_best_isa();
const char* bf16_isa_name(Bf16Isa isa);

inline constexpr int64_t kBf16BlockK = 32;  // bf16 values per 64-byte register

// f32 -> bf16 bits: round half to even, |x| < FLT_MIN -> signed zero, NaN stays NaN.
uint16_t to_bf16(float x);
inline float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

struct Bf16Weight {
  int64_t OC = 0, C = 0, Cp = 0;
  std::vector<uint16_t, CacheAligned<uint16_t>> values;  // (OC, Cp)
  size_t bytes() const { return values.size() * 2; }     // what a GEMV reads
};

// weight (OC, C) f32 row-major -> bf16 (OC, Cp). Non-finite weights throw.
Bf16Weight to_bf16_weight(const float* weight, int64_t OC, int64_t C);

// inp (N, C), bias (OC) or null, residual (N, OC) or null -> out (N, OC). out must not alias inp.
// Throws when `isa` is not supported by this CPU.
void linear_bf16_forward(float* out, const float* inp, const Bf16Weight& w, const float* bias,
                         const float* residual, int64_t N, Bf16Isa isa = Bf16Isa::best);

}  // namespace tessera::core::cpu
