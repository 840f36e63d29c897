// AdamW over registries and global-norm clipping: closed-form values.
#include <gtest/gtest.h>

#include <cmath>

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
