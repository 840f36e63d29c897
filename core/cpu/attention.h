#pragma once
// Causal self-attention with grouped-query attention (GQA): NH query heads share NKV key/value
// heads, query head h reading kv head h / (NH/NKV). NKV == NH is plain multi-head attention.
//
// The fused qkv row of one token holds NH query heads, then NKV key heads, then NKV value heads,
// each head's D values together: (NH + 2*NKV) * D values.
//
// Each (sequence, head) is computed on its own (scores and weighted sums as GEMMs). With
// batch_invariant the products use fixed-order dot products (gemm_nt_rowwise) instead of BLAS, so
// a sequence's output is bitwise independent of the other sequences in the batch and of the
// thread count (serving); otherwise BLAS (training).
#include <cstdint>

namespace tessera::core::cpu {

// qkv (B,T,(NH+2*NKV)*D) -> out (B,T,NH*D), att (B,NH,T,T) softmax probabilities (zero above the
// diagonal), saved for backward. Scores are scaled by 1/sqrt(D).
template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t NH,
                       int64_t NKV, int64_t D, bool batch_invariant = false);

// One query row against its n context keys and values, held contiguously (a sequence's cached
// context gathered from a paged KV cache, serving): q (D), k (n,D) with row stride ldk, vt (D,n) the
// values transposed with row stride ldvt (>= n) -> out (D); scores (n) scratch, left holding the probabilities. Scaled by
// 1/sqrt(D); the same fixed-order products and softmax as attention_forward's batch_invariant path,
// so the result depends on this row's context alone.
template <typename T>
void attention_row(T* out, T* scores, const T* q, const T* k, int64_t ldk, const T* vt, int64_t ldvt, int64_t n,
                   int64_t D);

// dout (B,T,NH*D) -> dqkv (B,T,(NH+2*NKV)*D) +=
template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B,
                        int64_t Tlen, int64_t NH, int64_t NKV, int64_t D);

}  // namespace tessera::core::cpu
