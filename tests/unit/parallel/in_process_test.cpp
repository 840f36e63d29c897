// In-process groups: closed-form collective results (rank r holds r) for every op, dtype and a
// range of sizes, and the failure paths: an injected throw, and a hang that peers time out on.
#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"
#include "parallel/in_process.h"
#include "parallel/topology.h"

namespace tessera::parallel {
namespace {

using core::DType;

// Runs fn(rank, communicator) on one thread per rank; returns the error message of each rank.
template <typename Fn>
std::vector<std::string> run_group(std::vector<std::unique_ptr<Communicator>>& comms, Fn fn) {
  std::vector<std::string> errors(comms.size());
  std::vector<std::thread> threads;
  for (size_t r = 0; r < comms.size(); ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(static_cast<int>(r), *comms[r]);
      } catch (const Error& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

template <typename T>
std::vector<T> filled(size_t n, double value) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(static_cast<float>(value));  // bf16 and f16 are made from float
  return v;
}

template <typename T>
double as_double(T x) {
  return static_cast<double>(static_cast<float>(x));
}

template <typename T>
void check_all_ops(int size, size_t count) {
  const DType dtype = core::dtype_of<T>();
  auto comms = make_in_process_group(size, "test");
  const double n = size;
  const auto errors = run_group(comms, [&](int rank, Communicator& c) {
    // all_reduce: sum of r over ranks = n(n-1)/2; max = n-1. Element i also adds i % 3 per rank.
    std::vector<T> a(count);
    for (size_t i = 0; i < count; ++i) a[i] = static_cast<T>(static_cast<float>(rank + static_cast<int>(i % 3)));
    c.all_reduce(a.data(), count, dtype, ReduceOp::sum)->wait();
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(as_double(a[i]), n * (n - 1) / 2 + n * static_cast<double>(i % 3));
    auto m = filled<T>(count, rank);
    c.all_reduce(m.data(), count, dtype, ReduceOp::max)->wait();
    for (const T& x : m) ASSERT_EQ(as_double(x), n - 1);

    // reduce_scatter: this rank's shard of the sum; all_gather puts the shards back together.
    const Range mine = shard_range(count, size, rank);
    auto full = filled<T>(count, rank);
    std::vector<T> shard(mine.count);
    c.reduce_scatter(full.data(), shard.data(), count, dtype, ReduceOp::sum)->wait();
    for (const T& x : shard) ASSERT_EQ(as_double(x), n * (n - 1) / 2);
    std::vector<T> gathered(count);
    auto own = filled<T>(mine.count, rank);
    c.all_gather(own.data(), gathered.data(), count, dtype)->wait();
    for (int r = 0; r < size; ++r) {
      const Range part = shard_range(count, size, r);
      for (size_t i = part.begin; i < part.begin + part.count; ++i) ASSERT_EQ(as_double(gathered[i]), r);
    }

    // broadcast from the last rank.
    auto b = filled<T>(count, rank);
    c.broadcast(b.data(), count, dtype, size - 1)->wait();
    for (const T& x : b) ASSERT_EQ(as_double(x), n - 1);
    c.barrier();
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
}

TEST(InProcess, ClosedFormResultsForEveryDtypeAndSize) {
  for (int size : {1, 2, 3, 4, 5}) {
    for (size_t count : {1ul, 2ul, 7ul, 1000ul, 4099ul}) {
      SCOPED_TRACE(testing::Message() << "size " << size << " count " << count);
      check_all_ops<float>(size, count);
      check_all_ops<double>(size, count);
      check_all_ops<int32_t>(size, count);
      check_all_ops<int8_t>(size, count);
      check_all_ops<core::bf16>(size, count);
      check_all_ops<core::f16>(size, count);
    }
  }
}

TEST(InProcess, InjectedThrowFailsThatRankAndPeersTimeOut) {
  InjectedFailure failure{InjectedFailure::Kind::throw_error, /*rank=*/2, /*operation=*/1};
  auto comms = make_in_process_group(3, "dp", /*timeout_s=*/0.3, failure);
  const auto errors = run_group(comms, [](int, Communicator& c) {
    float x = 1;
    c.all_reduce(&x, 1, DType::f32, ReduceOp::sum)->wait();
    c.all_reduce(&x, 1, DType::f32, ReduceOp::sum)->wait();  // rank 2 fails here
  });
  EXPECT_NE(errors[2].find("injected failure in all_reduce on group 'dp' (rank 2)"), std::string::npos) << errors[2];
  for (int r : {0, 1}) {
    EXPECT_NE(errors[r].find("all_reduce on group 'dp' (rank " + std::to_string(r) + " of 3) did not complete"),
              std::string::npos)
        << errors[r];
  }
}

TEST(InProcess, HangingPeerMakesOthersTimeOutNamingTheOperation) {
  InjectedFailure failure{InjectedFailure::Kind::hang, /*rank=*/0, /*operation=*/0};
  auto comms = make_in_process_group(2, "tp", /*timeout_s=*/0.2, failure);
  const auto start = std::chrono::steady_clock::now();
  const auto errors = run_group(comms, [](int, Communicator& c) {
    std::vector<float> send(8, 1.0f), recv(4);
    c.reduce_scatter(send.data(), recv.data(), 8, DType::f32, ReduceOp::sum)->wait();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(errors[0], "");  // the hanging rank itself never arrived
  EXPECT_NE(errors[1].find("reduce_scatter on group 'tp' (rank 1 of 2) did not complete within 0.2 s"),
            std::string::npos)
      << errors[1];
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace tessera::parallel
