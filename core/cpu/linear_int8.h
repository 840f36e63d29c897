#pragma once
// INT8 linear layer for serving: out (N, OC) = inp (N, C) f32 @ Wq^T + bias (+ residual), with Wq a
// per-channel int8 weight (core/cpu/quant.h) and the activations quantised on the fly, per row.
//
// Activations: each row is quantised to u8 with its own scale and zero point (asymmetric, so the
// one-signed GELU outputs feeding mlp.down use all 256 levels):
//   lo = min(0, min_k x), hi = max(0, max_k x), sx = hi/255 - lo/255, zp = rne(-lo/sx) in [0,255]
//   xu[k] = clamp(rne(x[k] * (1/sx)) + zp, 0, 255)            (rne: round half to even)
// vpdpbusd multiplies u8 by s8, so the dot product of a row with channel o is, exactly in int32,
//   acc = sum_k xu[k] * q[o][k] - zp * wsum[o]                 (= sum_k (xu[k] - zp) * q[o][k])
//   out[n][o] = (float(acc) * (sx * scales[o]) + bias[o]) + residual[n][o]
// in exactly this order of float operations on every ISA (the file is compiled without FMA
// contraction), so every kernel below, and the CUDA kernel (core/cuda/linear_int8.h), give the same
// bits. A row never depends on the other rows (batch invariance), nor on the thread count.
// A row holding NaN or Inf gives NaN outputs; a row whose range is below FLT_MIN counts as zeros.
//
// Kernels, chosen at run time from the CPU (no -march flag needed):
//   avx512_vnni: 64 channels x up to 6 rows per register tile (24 zmm accumulators), each 64-byte
//                weight load feeds one vpdpbusd per row; threads split the output channels, so a
//                GEMV (decode, N = 1) streams each weight byte once over all cores.
//   avx_vnni:    the same on 256-bit registers (32 channels x up to 2 rows), for CPUs without
//                AVX-512 (Alder Lake and later).
//   portable:    plain C++ (auto-vectorised per ISA); the oracle the others are tested against.
#include <cstdint>

#include "core/cpu/quant.h"

namespace tessera::core::cpu {

enum class Int8Isa { best, avx512_vnni, avx_vnni, portable };

bool int8_isa_supported(Int8Isa isa);  // best and portable: always
Int8Isa int8_best_isa();               // what `best` resolves to on this CPU
const char* int8_isa_name(Int8Isa isa);

// inp (N, C) -> xu (N, Cp) u8 (padding columns zero), sx (N), zp (N), as described above.
void quantize_rows(uint8_t* xu, float* sx, int32_t* zp, const float* inp, int64_t N, int64_t C,
                   int64_t Cp);

// inp (N, C), w (OC, C) quantised, bias (OC) or null -> out (N, OC). Throws when `isa` is not
// supported by this CPU. Scratch buffers are per thread and reused between calls.
void linear_int8_forward(float* out, const float* inp, const QuantizedWeight& w, const float* bias,
                         int64_t N, Int8Isa isa = Int8Isa::best);

// The same with a residual (N, OC) added last (null: none). out must not alias inp or residual.
void linear_int8_forward_residual(float* out, const float* inp, const QuantizedWeight& w,
                                  const float* bias, const float* residual, int64_t N,
                                  Int8Isa isa = Int8Isa::best);

}  // namespace tessera::core::cpu
