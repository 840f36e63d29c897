#pragma once
// Column reductions shared by the norm backward passes: threads own disjoint column blocks and
// sum the rows in order, so the result does not depend on the thread count.
#include <algorithm>
#include <cstdint>

#include "core/cpu/parallel.h"

namespace tessera::core::cpu {

// acc (C) += sum over n of term(n, c), for c in [0,C).
template <typename T, typename Term>
void column_sum(T* acc, int64_t N, int64_t C, Term&& term) {
  constexpr int64_t kBlock = 64;
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t c0 = 0; c0 < C; c0 += kBlock) {
    const int64_t c1 = std::min(C, c0 + kBlock);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t c = c0; c < c1; ++c) acc[c] += term(n, c);
    }
  }
}

}  // namespace tessera::core::cpu
