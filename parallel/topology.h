#pragma once
// The dp x tp grid of a job. world = dp * tp. Tensor-parallel groups are runs of consecutive
// ranks (same node, fastest links); data-parallel groups stride by tp:
//
//   world 8, tp 2:   tp groups {0,1} {2,3} {4,5} {6,7}     dp groups {0,2,4,6} {1,3,5,7}
//
// A plain value type: no MPI, so every rank of every layout can be checked in a unit test.
#include <cstddef>
#include <vector>

namespace tessera::parallel {

struct Topology {
  int world_size = 1, rank = 0;
  int tp = 1, dp = 1;
  int tp_rank = 0, dp_rank = 0;  // position inside this rank's tp group and dp group

  // Throws tessera::Error when world_size is not a multiple of tp, or when tp does not divide the
  // attention heads (n_head) and the key/value heads (n_kv_head), which tensor parallelism splits.
  static Topology make(int world_size, int rank, int tp, int n_head, int n_kv_head);

  std::vector<int> tp_group() const;  // world ranks of this rank's tp group, in tp_rank order
  std::vector<int> dp_group() const;  // world ranks of this rank's dp group, in dp_rank order
  int tp_group_index() const { return rank / tp; }  // which tp group (== dp_rank)
  int dp_group_index() const { return rank % tp; }  // which dp group (== tp_rank)
};

// The contiguous part of `count` elements owned by `rank` of `size` when split as evenly as
// possible: the first count % size ranks hold one more. Used by reduce-scatter, all-gather and
// ZeRO-1 sharding.
struct Range {
  size_t begin = 0, count = 0;
};
Range shard_range(size_t count, int size, int rank);

}  // namespace tessera::parallel
