// Bucketed gradient sync over in-process groups: bucket layout, closed-form means (rank r holds
// (r+1) * g, the mean is (n+1)/2 * g), launches during backward, ZeRO-1 shards, accumulation.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "parallel/grad_sync.h"
#include "parallel/in_process.h"

namespace tessera::parallel {
namespace {

std::vector<size_t> some_param_sizes() { return {3000, 17, 17, 5000, 1, 256, 4096, 999, 64, 12000, 7}; }

float base_grad(size_t i) { return static_cast<float>(i % 13) - 6.0f; }

TEST(GradSync, BucketsTileTheBufferFromTheEnd) {
  auto comms = make_in_process_group(1, "dp");
  const auto sizes = some_param_sizes();
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  std::vector<float> grads(total);
  GradSync sync(*comms[0], grads.data(), sizes, /*bucket_bytes=*/4 * 5000, GradSync::Mode::all_reduce);
  size_t end = total, param_end = sizes.size();
  for (const auto& b : sync.buckets()) {
    EXPECT_EQ(b.begin + b.count, end) << "buckets are contiguous, from the end of the buffer";
    EXPECT_EQ(b.first_param + b.n_params, param_end);
    EXPECT_TRUE(b.count <= 5000 || b.n_params == 1) << "only a single large parameter exceeds the bucket size";
    end = b.begin;
    param_end = b.first_param;
  }
  EXPECT_EQ(end, 0u);
  EXPECT_GT(sync.buckets().size(), 3u);
}

void run_ranks(int n, const std::function<void(int, Communicator&)>& fn) {
  auto comms = make_in_process_group(n, "dp", 30.0);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) threads.emplace_back([&, r] { fn(r, *comms[r]); });
  for (auto& t : threads) t.join();
}

TEST(GradSync, AllReduceGivesTheMeanAndLaunchesDuringBackward) {
  const auto sizes = some_param_sizes();
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  for (int n : {1, 2, 3, 4}) {
    run_ranks(n, [&](int rank, Communicator& dp) {
      std::vector<float> grads(total);
      GradSync sync(dp, grads.data(), sizes, 4 * 4096, GradSync::Mode::all_reduce);
      for (size_t i = 0; i < total; ++i) grads[i] = static_cast<float>(rank + 1) * base_grad(i);
      sync.begin_sync();
      for (size_t p = sizes.size(); p-- > 0;) sync.mark_ready(p);  // backward: last parameter first
      EXPECT_EQ(sync.launched_before_finish(), sync.buckets().size());
      sync.finish();
      const float mean = static_cast<float>(n + 1) / 2.0f;
      for (size_t i = 0; i < total; ++i) ASSERT_FLOAT_EQ(grads[i], mean * base_grad(i)) << i;
    });
  }
}

TEST(GradSync, OutOfOrderMarksStillLaunchInBucketOrder) {
  const auto sizes = some_param_sizes();
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  run_ranks(3, [&](int rank, Communicator& dp) {
    std::vector<float> grads(total);
    GradSync sync(dp, grads.data(), sizes, 4 * 4096, GradSync::Mode::all_reduce);
    for (size_t i = 0; i < total; ++i) grads[i] = static_cast<float>(rank + 1) * base_grad(i);
    std::vector<size_t> order(sizes.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(100 + static_cast<unsigned>(rank)));  // differs per rank
    sync.begin_sync();
    for (size_t p : order) sync.mark_ready(p);
    sync.finish();
    for (size_t i = 0; i < total; ++i) ASSERT_FLOAT_EQ(grads[i], 2.0f * base_grad(i));
  });
}

TEST(GradSync, ReduceScatterLeavesEachRankItsShardOfTheMean) {
  const auto sizes = some_param_sizes();
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  for (int n : {2, 3, 4}) {
    run_ranks(n, [&](int rank, Communicator& dp) {
      std::vector<float> grads(total);
      GradSync sync(dp, grads.data(), sizes, 4 * 3000, GradSync::Mode::reduce_scatter);
      for (size_t i = 0; i < total; ++i) grads[i] = static_cast<float>(rank + 1) * base_grad(i);
      sync.begin_sync();
      for (size_t p = sizes.size(); p-- > 0;) sync.mark_ready(p);
      sync.finish();
      const float mean = static_cast<float>(n + 1) / 2.0f;
      size_t owned = 0;
      for (const auto& b : sync.buckets()) {
        EXPECT_EQ(b.shard.count, shard_range(b.count, n, rank).count);
        for (size_t i = 0; i < b.shard.count; ++i) {
          ASSERT_FLOAT_EQ(sync.shard_grads()[b.shard_offset + i], mean * base_grad(b.begin + b.shard.begin + i));
        }
        owned += b.shard.count;
      }
      EXPECT_EQ(owned, sync.shard_grads().size());
    });
  }
}

TEST(GradSync, EarlierMicroStepsDoNotCommunicate) {
  // Rank 1 never calls begin_sync: if marks communicated, rank 0 would wait for it and time out.
  const std::vector<size_t> sizes = {10, 20};
  auto comms = make_in_process_group(2, "dp", 0.5);
  std::vector<float> g0(30, 1.0f), g1(30, 1.0f);
  std::thread other([&] {
    GradSync sync(*comms[1], g1.data(), sizes, 64, GradSync::Mode::all_reduce);
    sync.mark_ready(1);
    sync.mark_ready(0);
  });
  GradSync sync(*comms[0], g0.data(), sizes, 64, GradSync::Mode::all_reduce);
  sync.mark_ready(1);
  sync.mark_ready(0);
  other.join();
  EXPECT_EQ(sync.launched_before_finish(), 0u);
  EXPECT_EQ(g0[0], 1.0f);
}

// bf16 wire: rank r sends bf16((r+1) * x); with 2 ranks the reduction is one f32 addition rounded
// to bf16, so the mean is exactly bf16(bf16(x) + bf16(2x)) / 2; with 3 and 4 ranks each partial sum
// is rounded, within (n - 1) * 2^-8 relative of the exact sum of the rounded values. Values chosen
// so that bf16 rounding changes them.
float wire_value(size_t i) { return base_grad(i) + 0.001f * static_cast<float>(i % 97); }

float via_bf16(float x) { return static_cast<float>(core::bf16(x)); }

TEST(GradSync, Bf16WireSendsRoundedSums) {
  const auto sizes = some_param_sizes();
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  for (GradSync::Mode mode : {GradSync::Mode::all_reduce, GradSync::Mode::reduce_scatter}) {
    for (int n : {2, 3, 4}) {
      run_ranks(n, [&](int rank, Communicator& dp) {
        std::vector<float> grads(total);
        GradSync sync(dp, grads.data(), sizes, 4 * 3000, mode, core::DType::bf16);
        for (size_t i = 0; i < total; ++i) grads[i] = static_cast<float>(rank + 1) * wire_value(i);
        sync.begin_sync();
        for (size_t p = sizes.size(); p-- > 0;) sync.mark_ready(p);
        sync.finish();
        size_t changed = 0;
        auto check = [&](size_t i, float got) {
          double exact = 0, bound = 0;
          for (int r = 0; r < n; ++r) {
            exact += via_bf16(static_cast<float>(r + 1) * wire_value(i));
            bound += std::fabs(via_bf16(static_cast<float>(r + 1) * wire_value(i)));
          }
          const float f32_mean = static_cast<float>(n + 1) / 2.0f * wire_value(i);
          changed += got != f32_mean;
          if (n == 2) {
            ASSERT_EQ(got, via_bf16(via_bf16(wire_value(i)) + via_bf16(2 * wire_value(i))) / 2) << i;
          } else {
            ASSERT_NEAR(got, exact / n, (n - 1) * std::ldexp(bound, -8) / n) << i;
          }
        };
        if (mode == GradSync::Mode::all_reduce) {
          for (size_t i = 0; i < total; ++i) check(i, grads[i]);
        } else {
          for (const auto& b : sync.buckets()) {
            for (size_t i = 0; i < b.shard.count; ++i) check(b.begin + b.shard.begin + i, sync.shard_grads()[b.shard_offset + i]);
          }
        }
        EXPECT_GT(changed, 0u) << "nothing went through bf16";
      });
    }
  }
}

TEST(GradSync, Bf16WireWithOneRankSendsNothing) {
  auto comms = make_in_process_group(1, "dp");
  std::vector<float> grads = {1.001f, 2.002f, 3.003f};
  GradSync sync(*comms[0], grads.data(), {3}, 64, GradSync::Mode::all_reduce, core::DType::bf16);
  sync.begin_sync();
  sync.mark_ready(0);
  sync.finish();
  EXPECT_EQ(grads, (std::vector<float>{1.001f, 2.002f, 3.003f}));
}

}  // namespace
}  // namespace tessera::parallel
