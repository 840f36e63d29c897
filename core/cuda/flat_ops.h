#pragma once
// Whole-buffer GPU operations of the training step: precision casts between fp32 master weights
// and bf16 compute copies, gradient accumulation into fp32, scaling and the squared norm (gradient
// clipping). Any shape, same numel; every call runs on the context's stream.
//
// Without CUDA (-DTESSERA_CUDA=OFF) every function throws tessera::Error.
#include "core/cuda/ops.h"

namespace tessera::core::cuda {

// dst <- src converted to dst's dtype (f32 or bf16 each; round to nearest even into bf16).
void cast(GpuContext& ctx, const Tensor& dst, const Tensor& src);
// dst (f32) += src (f32 or bf16).
void accumulate(GpuContext& ctx, const Tensor& dst, const Tensor& src);
// x (f32) *= s.
void scale(GpuContext& ctx, const Tensor& x, float s);
// x <- 0 on the context's stream (Tensor::zero_ runs on the default stream).
void zero(GpuContext& ctx, const Tensor& x);
// sum of x^2 over x (f32), accumulated in f64 per block and summed on the host in block order
// (deterministic); waits for the stream.
double sum_squares(GpuContext& ctx, const Tensor& x);

}  // namespace tessera::core::cuda
