#pragma once
// The causal softmax of one attention score row and its gradient, shared by the attention kernels
// (attention.cpp, attention_bf16.cpp). Vectorised and cloned per ISA.
#include <cstdint>

namespace tessera::core::cpu {

// row (Tlen): entries [0, n) normalised in place, [n, Tlen) zeroed.
template <typename T>
void causal_softmax_row(T* row, int64_t n, int64_t Tlen);

// The gradient folded with the score scale, in place of dp: ds = scale * p * (dp - sum_j p dp) on
// [0, n), zero on [n, end).
template <typename T>
void causal_softmax_backward_row(T* dp, const T* p, T scale, int64_t n, int64_t end);

}  // namespace tessera::core::cpu
