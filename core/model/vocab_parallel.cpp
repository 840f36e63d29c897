#include "core/model/vocab_parallel.h"

#include <algorithm>
#include <vector>

#include "core/cpu/cross_entropy.h"

namespace tessera::core {

template <typename T>
double vocab_parallel_cross_entropy(T* logits, const int32_t* targets, int64_t N, int64_t Vs, int64_t v0,
                                    TpGroup& tp) {
  std::vector<T> mx(static_cast<size_t>(N));          // (N) row maxima over the whole vocabulary
  std::vector<double> stats(static_cast<size_t>(2 * N));  // (N,2) sum of exponentials, target logit
  cpu::cross_entropy_shard_max(mx.data(), logits, N, Vs);
  tp.all_reduce_max(mx.data(), N);
  cpu::cross_entropy_shard_exp(logits, stats.data(), logits, mx.data(), targets, v0, N, Vs);
  tp.all_reduce_sum(stats.data(), 2 * N);
  return cpu::cross_entropy_shard_finish(logits, stats.data(), mx.data(), targets, v0, N, Vs);
}

template <typename T>
void gather_vocab_shards(T* full, const T* shard, int64_t N, int64_t Vs, int64_t v0, TpGroup& tp) {
  const int64_t V = Vs * tp.size();
  std::fill(full, full + N * V, T(0));
  for (int64_t n = 0; n < N; ++n) std::copy(shard + n * Vs, shard + (n + 1) * Vs, full + n * V + v0);
  tp.all_reduce_sum(full, N * V);
}

template double vocab_parallel_cross_entropy<float>(float*, const int32_t*, int64_t, int64_t, int64_t, TpGroup&);
template double vocab_parallel_cross_entropy<double>(double*, const int32_t*, int64_t, int64_t, int64_t, TpGroup&);
template void gather_vocab_shards<float>(float*, const float*, int64_t, int64_t, int64_t, TpGroup&);
template void gather_vocab_shards<double>(double*, const double*, int64_t, int64_t, int64_t, TpGroup&);

}  // namespace tessera::core
