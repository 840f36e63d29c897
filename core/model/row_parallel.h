#pragma once
// Row-parallel linear (attn.out, mlp.down) closing a residual branch: this rank holds K of the
// weight's input features and the same K features of inp, so its product is a partial sum. The
// all-reduce completes it on every rank (Megatron's "g": all-reduce forward, identity backward);
// the replicated bias and the residual are added once, after it. With one rank everything is one
// GEMM accumulating onto residual + bias. Used by the training forward and the serving forward,
// so both compute a layer's output the same way. One all-reduce on tp (none in a group of one).
#include <cstdint>

#include "core/cpu/linear.h"
#include "core/model/tensor_parallel.h"

namespace tessera::core {

// inp (N,K), w (OC,K), bias (OC) or null, residual (N,OC) -> out (N,OC). bf16: the product's bf16
// operands (F = float; linear_forward_bf16), or none for the F product.
template <typename F>
void row_parallel_forward(F* out, const F* inp, const F* w, const F* bias, const F* residual, int64_t N,
                          int64_t K, int64_t OC, bool batch_invariant, TpGroup& tp,
                          cpu::Bf16Operands bf16 = {});

}  // namespace tessera::core
