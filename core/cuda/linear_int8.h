#pragma once
// The int8 linear layer on the GPU: the same weight format (core/cpu/quant.h, packed panels of 16
// channels x 4 inputs), the same per-row activation quantisation and the same arithmetic as
// core/cpu/linear_int8.h, so its outputs equal the CPU kernels' bit for bit (integer dot products
// with dp4a, then the float steps with round-to-nearest intrinsics, no fused multiply-add).
//
// Without CUDA (-DTESSERA_CUDA=OFF) every function throws tessera::Error.
#include <cstdint>

#include "core/cpu/quant.h"
#include "core/cuda/ops.h"

namespace tessera::core::cuda {

// A QuantizedWeight in GPU memory (uploaded once at load; shapes as in cpu::QuantizedWeight).
struct GpuQuantizedWeight {
  int64_t OC = 0, C = 0, OCp = 0, Cp = 0;
  Tensor values;  // (OCp * Cp) i8, packed as on the CPU
  Tensor scales;  // (OCp) f32
  Tensor wsum;    // (OCp) i32
};

GpuQuantizedWeight upload_quantized(const cpu::QuantizedWeight& w);

// inp (N, C) f32, bias (OC) f32 or undefined, residual (N, OC) f32 or undefined -> out (N, OC) f32:
// out = (inp @ Wq^T + bias) + residual. All CUDA tensors; runs on ctx's stream.
void linear_int8_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp,
                         const GpuQuantizedWeight& w, const Tensor& bias,
                         const Tensor& residual = Tensor());

}  // namespace tessera::core::cuda
