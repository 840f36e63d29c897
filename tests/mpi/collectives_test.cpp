// MPI communicators under a real mpirun: closed-form results (rank r of a group holds r; the sum
// is n(n-1)/2) for every collective, dtype and size, including sizes not divisible by the group
// size, on the world, tp and dp groups of every layout the world size allows.
#include <gtest/gtest.h>

#include "core/error.h"
#include "parallel/groups.h"
#include "parallel/topology.h"
#include "tests/mpi/mpi_gtest_main.h"

namespace tessera::parallel {
namespace {

using core::DType;

template <typename T>
double as_double(T x) {
  return static_cast<double>(static_cast<float>(x));
}

template <typename T>
void check_group(Communicator& c, size_t count) {
  const DType dtype = core::dtype_of<T>();
  const int r = c.rank();
  const double n = c.size();
  std::vector<T> a(count, T(static_cast<float>(r)));
  c.all_reduce(a.data(), count, dtype, ReduceOp::sum)->wait();
  for (const T& x : a) ASSERT_EQ(as_double(x), n * (n - 1) / 2) << c.name();
  std::vector<T> m(count, T(static_cast<float>(r)));
  c.all_reduce(m.data(), count, dtype, ReduceOp::max)->wait();
  for (const T& x : m) ASSERT_EQ(as_double(x), n - 1) << c.name();

  const Range mine = shard_range(count, c.size(), r);
  std::vector<T> full(count, T(static_cast<float>(r))), shard(mine.count);
  c.reduce_scatter(full.data(), shard.data(), count, dtype, ReduceOp::sum)->wait();
  for (const T& x : shard) ASSERT_EQ(as_double(x), n * (n - 1) / 2) << c.name();

  std::vector<T> own(mine.count, T(static_cast<float>(r))), gathered(count);
  c.all_gather(own.data(), gathered.data(), count, dtype)->wait();
  for (int peer = 0; peer < c.size(); ++peer) {
    const Range part = shard_range(count, c.size(), peer);
    for (size_t i = part.begin; i < part.begin + part.count; ++i) ASSERT_EQ(as_double(gathered[i]), peer);
  }

  for (int root = 0; root < c.size(); ++root) {
    std::vector<T> b(count, T(static_cast<float>(r)));
    c.broadcast(b.data(), count, dtype, root)->wait();
    for (const T& x : b) ASSERT_EQ(as_double(x), root) << c.name();
  }
  c.barrier();
}

TEST(MpiCollectives, ClosedFormOnEveryGroupOfEveryLayout) {
  const int world = test_world().size();
  for (int tp = 1; tp <= world; ++tp) {
    if (world % tp != 0) continue;
    const Topology topo = Topology::make(world, test_world().rank(), tp, 720720, 720720);
    ProcessGroups groups(test_world(), topo, /*timeout_s=*/60);
    EXPECT_EQ(groups.tp().size(), tp);
    EXPECT_EQ(groups.dp().size(), world / tp);
    EXPECT_EQ(groups.tp().rank(), topo.tp_rank);
    EXPECT_EQ(groups.dp().rank(), topo.dp_rank);
    for (Communicator* c : {&groups.world(), &groups.tp(), &groups.dp()}) {
      for (size_t count : {1ul, 3ul, 1000ul, (1ul << 20) + 3}) {
        SCOPED_TRACE(testing::Message() << "tp " << tp << " group " << c->name() << " count " << count);
        check_group<float>(*c, count);
        check_group<double>(*c, count);
        check_group<int32_t>(*c, count);
        check_group<int8_t>(*c, count);
        check_group<core::bf16>(*c, count);
        check_group<core::f16>(*c, count);
      }
    }
  }
}

TEST(MpiCollectives, AsyncOperationsOverlapAndCompleteInOrder) {
  const Topology topo = Topology::make(test_world().size(), test_world().rank(), 1, 1, 1);
  ProcessGroups groups(test_world(), topo, 60);
  // Start several reductions before waiting on any (as bucketed gradient sync does).
  std::vector<std::vector<float>> buckets(8, std::vector<float>(50000, 1.0f));
  std::vector<std::unique_ptr<Work>> pending;
  for (auto& b : buckets) pending.push_back(groups.dp().all_reduce(b.data(), b.size(), DType::f32, ReduceOp::sum));
  for (auto& w : pending) w->wait();
  for (const auto& b : buckets) EXPECT_EQ(b.back(), static_cast<float>(test_world().size()));
}

}  // namespace
}  // namespace tessera::parallel
