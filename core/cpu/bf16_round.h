#pragma once
// f32 <-> bf16 over arrays, for bf16 training (the GEMM operands) and the bf16 gradient sync. bf16
// values are uint16_t bit patterns (the upper half of an IEEE binary32); rounding is to nearest
// even and keeps NaN a (quiet) NaN: the same bits as core::bf16's conversion (dtype.h), denormals
// kept. Threaded and vectorised.
#include <cstdint>

namespace tessera::core::cpu {

// x (n) f32 -> out (n) bf16
void round_to_bf16(uint16_t* out, const float* x, int64_t n);
// The same on the calling thread only (inside a parallel region: a row at a time).
void round_to_bf16_serial(uint16_t* out, const float* x, int64_t n);
// x (n) bf16 -> out (n) f32 = x * scale (exact when scale is a power of two)
void widen_from_bf16(float* out, const uint16_t* x, int64_t n, float scale = 1.0f);

}  // namespace tessera::core::cpu
