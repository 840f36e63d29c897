#pragma once
// Column reductions shared by the backward passes (bias and norm-gain gradients): threads own
// disjoint column blocks and sum the rows in order, so the result does not depend on the thread
// count.
#include <algorithm>
#include <cstdint>

#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

inline constexpr int64_t kColumnBlock = 64;

// acc[c0, c0 + w) += sum over n of term(n, c), w <= kColumnBlock. The partial sums stay in a
// local array (no reloads through a pointer that might alias the input), and the worker is cloned
// per ISA because OpenMP's outlined loop bodies are compiled for the baseline only.
template <typename T, typename Term>
TESSERA_SIMD_CLONES void column_block_sum(T* acc, int64_t N, int64_t c0, int64_t w, const Term& term) {
  T sum[kColumnBlock] = {};
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < w; ++c) sum[c] += term(n, c0 + c);
  }
  for (int64_t c = 0; c < w; ++c) acc[c0 + c] += sum[c];
}

// acc (C) += sum over n of term(n, c), for c in [0,C).
template <typename T, typename Term>
void column_sum(T* acc, int64_t N, int64_t C, Term&& term) {
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t c0 = 0; c0 < C; c0 += kColumnBlock) {
    column_block_sum(acc, N, c0, std::min(kColumnBlock, C - c0), term);
  }
}

}  // namespace tessera::core::cpu
