// MPI communicators under a real mpirun: closed-form results (rank r of a group holds r; the sum
// is n(n-1)/2) for every collective, dtype and size, including sizes not divisible by the group
// size, on the world, tp and dp groups of every layout the world size allows.
#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <vector>

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

// Operation i's value at element j on rank r: unique to (i, r) and exact in float.
float async_value(size_t i, int r, size_t j) { return static_cast<float>(1000 * i + 10 * r + j % 7); }

// One collective of AsyncOperationsOverlapAndCompleteInOrder: its kind, its buffers (in: this
// rank's contribution; out: the result) and the result the closed form predicts.
struct AsyncOp {
  enum Kind { sum, reduce_scatter, all_gather, broadcast, max } kind;
  size_t count;
  std::vector<float> in, out, expected;
  std::unique_ptr<Work> work;
};

AsyncOp start_async_op(Communicator& c, size_t i, size_t count) {
  const int r = c.rank(), n = c.size();
  const float tri = static_cast<float>(n * (n - 1) / 2);
  const auto v = [&](int rank, size_t j) { return async_value(i, rank, j); };
  AsyncOp op{static_cast<AsyncOp::Kind>(i % 5), count, {}, {}, {}, nullptr};
  const Range mine = shard_range(count, n, r);
  switch (op.kind) {
    case AsyncOp::sum:
    case AsyncOp::max:
      for (size_t j = 0; j < count; ++j) {
        op.out.push_back(v(r, j));
        op.expected.push_back(op.kind == AsyncOp::sum ? static_cast<float>(n) * v(0, j) + 10 * tri : v(n - 1, j));
      }
      op.work = c.all_reduce(op.out.data(), count, DType::f32,
                             op.kind == AsyncOp::sum ? ReduceOp::sum : ReduceOp::max);
      break;
    case AsyncOp::reduce_scatter:
      for (size_t j = 0; j < count; ++j) op.in.push_back(v(r, j));
      for (size_t j = mine.begin; j < mine.begin + mine.count; ++j)
        op.expected.push_back(static_cast<float>(n) * v(0, j) + 10 * tri);
      op.out.resize(mine.count);
      op.work = c.reduce_scatter(op.in.data(), op.out.data(), count, DType::f32, ReduceOp::sum);
      break;
    case AsyncOp::all_gather:
      for (size_t j = mine.begin; j < mine.begin + mine.count; ++j) op.in.push_back(v(r, j));
      for (int peer = 0; peer < n; ++peer) {
        const Range part = shard_range(count, n, peer);
        for (size_t j = part.begin; j < part.begin + part.count; ++j) op.expected.push_back(v(peer, j));
      }
      op.out.resize(count);
      op.work = c.all_gather(op.in.data(), op.out.data(), count, DType::f32);
      break;
    case AsyncOp::broadcast:
      for (size_t j = 0; j < count; ++j) {
        op.out.push_back(v(r, j));
        op.expected.push_back(v(static_cast<int>(i) % n, j));
      }
      op.work = c.broadcast(op.out.data(), count, DType::f32, static_cast<int>(i) % n);
      break;
  }
  return op;
}

// Ten collectives of five kinds and different sizes, all started before any wait (as bucketed
// gradient sync does), each filled with values unique to (operation, rank): a result landing in
// another operation's buffer, or operations matched across ranks out of call order, shows as a
// wrong value somewhere, and every element of every result is checked against its closed form.
// Overlap: rank 0 waits on none of them before a barrier on another group, which the other ranks
// reach only after their own waits return; that happens only if the operations progress while no
// thread of rank 0 waits on them. Order: the other ranks wait last to first, so completing
// depends on call order, not on wait order.
TEST(MpiCollectives, AsyncOperationsOverlapAndCompleteInOrder) {
  const Topology topo = Topology::make(test_world().size(), test_world().rank(), 1, 1, 1);
  ProcessGroups groups(test_world(), topo, 60);
  Communicator& c = groups.dp();
  std::vector<AsyncOp> ops;
  const size_t counts[] = {50000, 3, (1ul << 20) + 5, 1, 12345, 7, 65536, 1000, 2, 99999};
  for (size_t i = 0; i < std::size(counts); ++i) ops.push_back(start_async_op(c, i, counts[i]));
  if (c.rank() == 0) {
    groups.world().barrier();
    for (auto& op : ops) op.work->wait();
  } else {
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) it->work->wait();
    groups.world().barrier();
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    ASSERT_EQ(ops[i].out.size(), ops[i].expected.size()) << "operation " << i;
    for (size_t j = 0; j < ops[i].out.size(); ++j)
      ASSERT_EQ(ops[i].out[j], ops[i].expected[j]) << "operation " << i << " kind " << ops[i].kind << " element " << j;
  }
}

}  // namespace
}  // namespace tessera::parallel
