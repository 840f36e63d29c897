#pragma once
// When a kernel is worth threading. Entering an OpenMP parallel region costs a few microseconds,
// and far more when another process holds a core (the region waits for every thread), so small
// calls (decode steps, tests, tiny models) run on the calling thread: pragmas carry
// `if(parallel_worth(work))`, where work counts the elements (or multiply-adds) touched.
#include <algorithm>
#include <cstdint>

namespace tessera::core::cpu {

inline constexpr int64_t kMinParallelWork = int64_t{1} << 15;

constexpr bool parallel_worth(int64_t work) { return work >= kMinParallelWork; }

// Splits [0, n) into chunks of 4096 elements processed in parallel by fn(begin, count): elementwise
// kernels put their loop in a chunk function cloned per ISA (TESSERA_SIMD_CLONES), which an OpenMP
// region's outlined body, compiled for the baseline, would not be.
template <typename Fn>
void parallel_chunks(int64_t n, Fn&& fn) {
  constexpr int64_t kChunk = 4096;
#pragma omp parallel for schedule(static) if (parallel_worth(n))
  for (int64_t i = 0; i < n; i += kChunk) fn(i, std::min(kChunk, n - i));
}

}  // namespace tessera::core::cpu
