// ZeRO-1 over in-process groups: the sharded update equals the replicated AdamW update exactly
// (AdamW is elementwise) and each rank keeps 1/dp of the state.
#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "parallel/in_process.h"
#include "train/optimizer.h"
#include "train/zero_adamw.h"

namespace tessera::train {
namespace {

core::ParamRegistry make_params() {
  std::vector<core::ParamInfo> infos;
  for (auto [name, n, decay] : {std::tuple{"a", 1000, true}, {"b", 37, false}, {"c", 4096, true}, {"d", 5, false}}) {
    core::ParamInfo info;
    info.name = name;
    info.shape = {n};
    info.weight_decay = decay;
    infos.push_back(info);
  }
  return core::ParamRegistry(infos, core::DType::f32);
}

float grad_value(size_t i, int step) { return std::sin(0.37f * static_cast<float>(i) + static_cast<float>(step)); }

TEST(ZeroAdamW, ShardedUpdateEqualsReplicatedAdamW) {
  // Reference: one process, replicated AdamW on the mean gradient.
  auto ref = make_params();
  auto ref_grads = core::ParamRegistry::like(ref, core::DType::f32);
  for (int64_t i = 0; i < ref.numel(); ++i) ref.flat().data<float>()[i] = 0.01f * static_cast<float>(i % 17);
  AdamW adam(ref, ref_grads, 0.1);
  for (int step = 0; step < 3; ++step) {
    for (int64_t i = 0; i < ref.numel(); ++i) ref_grads.flat().data<float>()[i] = grad_value(static_cast<size_t>(i), step);
    adam.step(0.01);
  }

  for (int n : {2, 3}) {
    auto comms = parallel::make_in_process_group(n, "dp");
    std::vector<std::thread> threads;
    std::vector<std::vector<float>> results(static_cast<size_t>(n));
    std::vector<size_t> state_sizes(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) {
      threads.emplace_back([&, r] {
        auto params = make_params();
        auto grads = core::ParamRegistry::like(params, core::DType::f32);
        for (int64_t i = 0; i < params.numel(); ++i) params.flat().data<float>()[i] = 0.01f * static_cast<float>(i % 17);
        std::vector<size_t> sizes;
        for (const auto& info : params.infos()) sizes.push_back(static_cast<size_t>(info.numel()));
        parallel::GradSync sync(*comms[r], grads.flat().data<float>(), sizes, 4 * 1500,
                                parallel::GradSync::Mode::reduce_scatter);
        ZeroAdamW zero(params, sync, *comms[r], 0.1);
        for (int step = 0; step < 3; ++step) {
          // Rank r holds (r+1) * g: the mean over ranks is (n+1)/2 * g; scale so that the mean is g.
          const float s = 2.0f * static_cast<float>(r + 1) / static_cast<float>(n + 1);
          for (int64_t i = 0; i < params.numel(); ++i) grads.flat().data<float>()[i] = s * grad_value(static_cast<size_t>(i), step);
          sync.begin_sync();
          for (size_t p = sizes.size(); p-- > 0;) sync.mark_ready(p);
          sync.finish();
          zero.step(0.01);
        }
        results[r].assign(params.flat().data<float>(), params.flat().data<float>() + params.numel());
        state_sizes[r] = zero.m().size();
      });
    }
    for (auto& t : threads) t.join();
    size_t total_state = 0;
    for (int r = 0; r < n; ++r) {
      total_state += state_sizes[r];
      for (int64_t i = 0; i < ref.numel(); ++i) {
        ASSERT_NEAR(results[r][i], ref.flat().data<float>()[i], 1e-6f) << "dp " << n << " rank " << r << " element " << i;
      }
    }
    EXPECT_EQ(total_state, static_cast<size_t>(ref.numel())) << "the ranks' moment shards tile the parameters";
  }
}

}  // namespace
}  // namespace tessera::train
