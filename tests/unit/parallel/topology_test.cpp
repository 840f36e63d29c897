// Topology: every rank of small layouts, checked against the definition; invalid layouts rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "parallel/topology.h"
#include "tests/unit/test_support.h"

namespace tessera::parallel {
namespace {

using namespace testing_support;

// Divisible by every tp up to 16 (the least common multiple of 1..16).
constexpr int kHeads = 720720;

TEST(Topology, EveryRankOfSmallLayouts) {
  for (int world = 1; world <= 16; ++world) {
    for (int tp = 1; tp <= world; ++tp) {
      if (world % tp != 0) continue;
      std::set<std::vector<int>> tp_groups, dp_groups;
      for (int rank = 0; rank < world; ++rank) {
        const Topology t = Topology::make(world, rank, tp, kHeads, kHeads);
        ASSERT_EQ(t.dp * t.tp, world);
        const auto tg = t.tp_group(), dg = t.dp_group();
        ASSERT_EQ(static_cast<int>(tg.size()), tp);
        ASSERT_EQ(static_cast<int>(dg.size()), world / tp);
        // This rank sits in its groups at its own positions.
        EXPECT_EQ(tg[t.tp_rank], rank);
        EXPECT_EQ(dg[t.dp_rank], rank);
        // TP groups are consecutive ranks; DP groups stride by tp.
        for (size_t i = 1; i < tg.size(); ++i) EXPECT_EQ(tg[i], tg[i - 1] + 1);
        for (size_t i = 1; i < dg.size(); ++i) EXPECT_EQ(dg[i], dg[i - 1] + tp);
        // Every member of a group agrees on the group.
        for (int peer : tg) EXPECT_EQ(Topology::make(world, peer, tp, kHeads, kHeads).tp_group(), tg);
        for (int peer : dg) EXPECT_EQ(Topology::make(world, peer, tp, kHeads, kHeads).dp_group(), dg);
        tp_groups.insert(tg);
        dp_groups.insert(dg);
      }
      // The groups partition the world: world/tp tp groups, tp dp groups.
      EXPECT_EQ(static_cast<int>(tp_groups.size()), world / tp);
      EXPECT_EQ(static_cast<int>(dp_groups.size()), tp);
    }
  }
}

TEST(Topology, InvalidLayoutsAreClearErrors) {
  EXPECT_NE(error_of([] { Topology::make(6, 0, 4, 8, 8); }).find("world size (6 ranks) is not divisible by parallel.tp (4)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Topology::make(4, 0, 4, 6, 6); }).find("must divide model.n_head (6)"), std::string::npos);
  EXPECT_NE(error_of([] { Topology::make(4, 0, 4, 8, 2); }).find("must divide the key/value heads (2)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Topology::make(4, 4, 1, 8, 8); }).find("outside a world of 4"), std::string::npos);
  EXPECT_NE(error_of([] { Topology::make(4, 0, 0, 8, 8); }).find("at least 1"), std::string::npos);
}

TEST(Topology, ShardRangesTileTheBufferEvenly) {
  for (size_t count : {0ul, 1ul, 7ul, 64ul, 1001ul}) {
    for (int size = 1; size <= 9; ++size) {
      size_t next = 0, smallest = count, largest = 0;
      for (int r = 0; r < size; ++r) {
        const Range range = shard_range(count, size, r);
        EXPECT_EQ(range.begin, next);
        next += range.count;
        smallest = std::min(smallest, range.count);
        largest = std::max(largest, range.count);
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(largest - smallest, 1u);
    }
  }
}

}  // namespace
}  // namespace tessera::parallel
