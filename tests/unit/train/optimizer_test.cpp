// AdamW over registries and global-norm clipping: closed-form values.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "parallel/in_process.h"
#include "train/optimizer.h"

namespace tessera::train {
namespace {

core::ParamRegistry two_params() {
  std::vector<core::ParamInfo> infos(2);
  infos[0].name = "w";
  infos[0].shape = {2, 2};
  infos[1].name = "b";
  infos[1].shape = {2};
  infos[1].weight_decay = false;
  return core::ParamRegistry(infos, core::DType::f32);
}

TEST(Optimizer, GlobalNormAndClipping) {
  auto grads = two_params();
  float* g = grads.flat().data<float>();
  const float values[6] = {3, 0, 0, 0, 0, 4};  // norm 5
  std::copy(values, values + 6, g);
  EXPECT_NEAR(global_norm(grads), 5.0, 1e-12);
  EXPECT_NEAR(clip_global_norm(grads, 10.0), 5.0, 1e-12);  // below the limit: untouched
  EXPECT_FLOAT_EQ(g[0], 3.0f);
  EXPECT_NEAR(clip_global_norm(grads, 1.0), 5.0, 1e-12);   // returns the norm before clipping
  EXPECT_NEAR(global_norm(grads), 1.0, 1e-6);
  EXPECT_NEAR(g[0], 0.6f, 1e-6);
  EXPECT_NEAR(g[5], 0.8f, 1e-6);
  EXPECT_NEAR(clip_global_norm(grads, 0.0), 1.0, 1e-6);    // 0 disables clipping
}

// Under tensor parallelism each rank holds half of a column-split weight and all of a replicated
// bias: the norm adds the weight halves over the tp group and counts the bias once, on every rank.
TEST(Optimizer, GlobalNormOverTensorParallelShards) {
  std::vector<core::ParamInfo> infos(2);
  infos[0] = {"w", {4, 2}, core::TpSplit::column, {}};
  infos[1] = {"b", {2}, core::TpSplit::replicated, {}};
  auto comms = parallel::make_in_process_group(2, "tp");
  std::vector<double> norms(2);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.emplace_back([&, r] {
      core::ParamRegistry grads(infos, core::DType::f32, core::Device::cpu, r, 2);
      EXPECT_TRUE(grads.is_sharded(0));
      EXPECT_FALSE(grads.is_sharded(1));
      float* g = grads.flat().data<float>();  // (2,2) rows of w, then b
      const float mine[2][6] = {{1, 1, 1, 1, 2, 2}, {3, 3, 3, 3, 2, 2}};
      std::copy(mine[r], mine[r] + 6, g);
      norms[r] = global_norm(grads, comms[r].get());
      // Elements 3..5 of the flat layout: the last of w, then b.
      const SquareSums part = square_sums(grads, 3, g + 3, 3);
      EXPECT_DOUBLE_EQ(part.split, r == 0 ? 1.0 : 9.0);
      EXPECT_DOUBLE_EQ(part.replicated, 8.0);
    });
  }
  for (auto& t : ranks) t.join();
  const double expected = std::sqrt(4 * 1.0 + 4 * 9.0 + 8.0);
  EXPECT_NEAR(norms[0], expected, 1e-12);
  EXPECT_NEAR(norms[1], expected, 1e-12);
}

TEST(Optimizer, FirstAdamWStepMovesByLrTimesSignAndDecaysOnlyWeights) {
  auto params = two_params();
  auto grads = core::ParamRegistry::like(params, core::DType::f32);
  params.flat().fill_(1.0);
  float* g = grads.flat().data<float>();
  const float values[6] = {0.5f, -2.0f, 0.0f, 1e-3f, 3.0f, -3.0f};
  std::copy(values, values + 6, g);
  AdamW adam(params, grads, /*weight_decay=*/0.1);
  adam.step(0.01);
  // Step 1 with bias correction: m_hat = g, v_hat = g^2, so the update is lr * (sign(g) + wd * p).
  const float* p = params.flat().data<float>();
  for (int i = 0; i < 6; ++i) {
    const double sign = values[i] > 0 ? 1 : (values[i] < 0 ? -1 : 0);
    const double decay = i < 4 ? 0.1 : 0.0;  // "b" has no weight decay
    EXPECT_NEAR(p[i], 1.0 - 0.01 * (sign + decay), 1e-5) << i;
  }
  EXPECT_EQ(adam.steps_taken(), 1);
}

}  // namespace
}  // namespace tessera::train
