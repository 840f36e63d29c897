// World and the rank-0 control plane under a real mpirun: closed-form results of broadcast,
// gather and all_gather (rank r sends r copies of the letter 'a' + r), and the config broadcast.
// Run with any number of ranks.
#include <gtest/gtest.h>

#include <fstream>

#include <fmt/format.h>
#include <unistd.h>

#include "core/error.h"
#include "parallel/config_broadcast.h"
#include "parallel/world.h"
#include "tests/mpi/mpi_gtest_main.h"

namespace tessera::parallel {
namespace {

std::string payload(int rank) { return std::string(static_cast<size_t>(rank), static_cast<char>('a' + rank)); }

TEST(World, LaunchedByMpirun) {
  EXPECT_TRUE(test_world().uses_mpi());
  EXPECT_GE(test_world().size(), 2);
  EXPECT_LT(test_world().local_rank(), test_world().local_size());
}

// Every rank knows every rank's host (one machine here), and names a list of ranks by them.
TEST(World, HostsOfEveryRank) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  const World& w = test_world();
  for (int r = 0; r < w.size(); ++r) EXPECT_EQ(w.host(r), name);
  EXPECT_EQ(w.describe({1}), fmt::format("rank 1 on {}", name));
  EXPECT_EQ(w.describe({0, 1}), fmt::format("rank 0 on {0}, rank 1 on {0}", name));
  std::string first8 = fmt::format("rank 1 on {}", name);  // a long list: the first 8, then a count
  for (int i = 1; i < 8; ++i) first8 += fmt::format(", rank 1 on {}", name);
  EXPECT_EQ(w.describe(std::vector<int>(10, 1)), first8 + " and 2 more");
}

TEST(World, BroadcastFromEveryRoot) {
  for (int root = 0; root < test_world().size(); ++root) {
    std::string bytes = test_world().rank() == root ? std::string("from ") + std::to_string(root) : "junk";
    test_world().broadcast(bytes, root);
    EXPECT_EQ(bytes, "from " + std::to_string(root));
  }
}

TEST(World, GatherAndAllGatherInRankOrder) {
  const auto at_root = test_world().gather(payload(test_world().rank()));
  const auto everywhere = test_world().all_gather(payload(test_world().rank()));
  ASSERT_EQ(everywhere.size(), static_cast<size_t>(test_world().size()));
  if (test_world().is_root()) {
    ASSERT_EQ(at_root.size(), static_cast<size_t>(test_world().size()));
  } else {
    EXPECT_TRUE(at_root.empty());
  }
  for (int r = 0; r < test_world().size(); ++r) {
    EXPECT_EQ(everywhere[r], payload(r));
    if (test_world().is_root()) {
      EXPECT_EQ(at_root[r], payload(r));
    }
  }
}

TEST(World, ConfigFromRankZeroReachesEveryRank) {
  // The other ranks name a file that does not exist: they get the config through the broadcast.
  const std::string path = ::testing::TempDir() + "/world_test_good.toml";
  if (test_world().is_root()) std::ofstream(path) << "[model]\nn_layer = 7\n";
  const Config c = load_config(test_world(), test_world().is_root() ? path : "/nonexistent.toml", {"train.steps=11"});
  EXPECT_EQ(c.model.n_layer, 7);
  EXPECT_EQ(c.train.steps, 11);
}

TEST(World, BadConfigIsTheSameErrorOnEveryRank) {
  const std::string path = ::testing::TempDir() + "/world_test_bad.toml";
  if (test_world().is_root()) std::ofstream(path) << "[model]\nn_layers = 7\n";
  try {
    load_config(test_world(), path, {});
    ADD_FAILURE() << "expected an error";
  } catch (const CollectiveError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'n_layers' in [model]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::parallel
