#include "parallel/topology.h"

#include <algorithm>

#include "core/error.h"

namespace tessera::parallel {

Topology Topology::make(int world_size, int rank, int tp, int n_head, int n_kv_head) {
  TESSERA_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank {} is outside a world of {}", rank,
                world_size);
  TESSERA_CHECK(tp >= 1, "parallel.tp must be at least 1, got {}", tp);
  TESSERA_CHECK(world_size % tp == 0,
                "the world size ({} ranks) is not divisible by parallel.tp ({}): use a rank count that is a "
                "multiple of tp",
                world_size, tp);
  TESSERA_CHECK(n_head % tp == 0, "parallel.tp ({}) must divide model.n_head ({}): attention heads are split "
                "across tensor-parallel ranks", tp, n_head);
  TESSERA_CHECK(n_kv_head % tp == 0, "parallel.tp ({}) must divide the key/value heads ({}): they are split "
                "across tensor-parallel ranks", tp, n_kv_head);
  Topology t;
  t.world_size = world_size;
  t.rank = rank;
  t.tp = tp;
  t.dp = world_size / tp;
  t.tp_rank = rank % tp;
  t.dp_rank = rank / tp;
  return t;
}

std::vector<int> Topology::tp_group() const {
  std::vector<int> ranks;
  for (int i = 0; i < tp; ++i) ranks.push_back(dp_rank * tp + i);
  return ranks;
}

std::vector<int> Topology::dp_group() const {
  std::vector<int> ranks;
  for (int i = 0; i < dp; ++i) ranks.push_back(i * tp + tp_rank);
  return ranks;
}

Range shard_range(size_t count, int size, int rank) {
  const size_t n = static_cast<size_t>(size), r = static_cast<size_t>(rank);
  const size_t base = count / n, extra = count % n;
  return {r * base + std::min(r, extra), base + (r < extra ? size_t{1} : size_t{0})};
}

}  // namespace tessera::parallel
