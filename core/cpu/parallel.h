#pragma once
// When a kernel is worth threading. Entering an OpenMP parallel region costs a few microseconds,
// and far more when another process holds a core (the region waits for every thread), so small
// calls (decode steps, tests, tiny models) run on the calling thread: pragmas carry
// `if(parallel_worth(work))`, where work counts the elements (or multiply-adds) touched.
#include <cstdint>

namespace tessera::core::cpu {

inline constexpr int64_t kMinParallelWork = int64_t{1} << 15;

constexpr bool parallel_worth(int64_t work) { return work >= kMinParallelWork; }

}  // namespace tessera::core::cpu
