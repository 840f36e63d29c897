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

#include "core/dtype.h"

namespace tessera::core::cpu {

// qkv (B,T,(NH+2*NKV)*D) -> out (B,T,NH*D), att (B,NH,T,T) softmax probabilities (zero above the
// diagonal), saved for backward. Scores are scaled by 1/sqrt(D).
template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t NH,
                       int64_t NKV, int64_t D, bool batch_invariant = false);

// A sequence's context as a paged KV cache holds it (serving): the key of token t at
// keys[t / page] + (t % page) * ld, its value likewise in values; read in place, never gathered.
// E, the cache's element type: T itself, or core::bf16 under a float computation (half the bytes;
// each value widened exactly as it is read).
template <typename E>
struct PagedContext {
  const E* const* keys;    // (ceil(n / page)) page pointers
  const E* const* values;  // (ceil(n / page))
  int64_t page;            // tokens per page
  int64_t ld;              // elements between two tokens of a page
};

// A row of n scores in attention_rows_paged's scratch, padded to whole runs of 16 tokens.
inline int64_t paged_score_stride(int64_t n) { return (n + 15) / 16 * 16; }

// Scratch attention_rows_paged needs: M rows of scores, 16 lanes of D sums, 16 widened tokens.
inline int64_t paged_attention_scratch(int64_t M, int64_t n, int64_t D) { return M * paged_score_stride(n) + 32 * D; }

// M query rows q (M,D), row stride ldq (e.g. the query heads of one token that share a kv head),
// each against the first n tokens of ctx -> out (M,D), row stride ldo. Scaled by 1/sqrt(D); the
// products in the order of attention_forward's batch_invariant path (each score a fixed-order dot
// product over D, each output a sum over the tokens in 16 lanes, lane t mod 16, halving tree), so
// a row's result is bitwise that of the training forward's row and depends on its context alone.
// A bf16 context gives bitwise the result of a T context holding the same (widened) values.
// scratch: paged_attention_scratch(M, n, D) elements.
template <typename T, typename E>
void attention_rows_paged(T* out, int64_t ldo, const T* q, int64_t ldq, int64_t M, const PagedContext<E>& ctx,
                          int64_t n, int64_t D, T* scratch);

// dout (B,T,NH*D) -> dqkv (B,T,(NH+2*NKV)*D) +=
template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B,
                        int64_t Tlen, int64_t NH, int64_t NKV, int64_t D);

}  // namespace tessera::core::cpu
