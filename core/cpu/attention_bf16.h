#pragma once
// Training attention with bf16 products (bf16 precision, docs/training.md): attention.h's causal
// attention with the scores q k^T, the weighted sums p v and the four products of backward in bf16
// with f32 accumulation (gemm_bf16_batched), read in place from the (N, heads * D) activations; the
// softmax and its gradient stay f32. One task per (sequence, kv head) runs its products on one
// thread, the query heads of a group batched in each call, so that the task's scores stay in that
// core's cache (one batched call over every head ran 1.4x slower inside a training step than alone).
// A block of query rows attends to the keys up to its own end, so the masked upper triangle is
// computed only inside the diagonal blocks. Grouped-query attention as in attention.h.
#include <cstdint>

namespace tessera::core::cpu {

// qkvb (B,T,(NH+2*NKV)*D) bf16 (q and k after RoPE) -> out (B,T,NH*D) f32, att (B,NH,T,T) f32
// probabilities (zero above the diagonal, as attention_forward's), attb (B,NH,T,T) bf16 the same
// rounded (read by backward; entries past the end of a row's block unset). Scores scaled by 1/sqrt(D).
void attention_forward_bf16(float* out, float* att, uint16_t* attb, const uint16_t* qkvb, int64_t B, int64_t Tlen,
                            int64_t NH, int64_t NKV, int64_t D);

// doutb (B,T,NH*D) bf16 -> dqkv (B,T,(NH+2*NKV)*D) +=, with qkvb, att and attb of the forward.
void attention_backward_bf16(float* dqkv, const uint16_t* doutb, const uint16_t* qkvb, const float* att,
                             const uint16_t* attb, int64_t B, int64_t Tlen, int64_t NH, int64_t NKV, int64_t D);

}  // namespace tessera::core::cpu
