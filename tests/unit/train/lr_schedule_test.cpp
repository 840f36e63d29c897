// Learning-rate schedule: closed-form points of warmup and cosine decay.
#include <gtest/gtest.h>

#include <cmath>

#include "train/lr_schedule.h"

namespace tessera::train {
namespace {

TEST(LrSchedule, WarmupThenCosineToMinLr) {
  TrainConfig t;
  t.lr = 1.0;
  t.min_lr = 0.1;
  t.warmup_steps = 10;
  t.steps = 111;  // 101 decay steps: progress (s - 10) / 100
  EXPECT_DOUBLE_EQ(learning_rate(t, 0), 0.1);   // (0+1)/10
  EXPECT_DOUBLE_EQ(learning_rate(t, 4), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(t, 9), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(t, 10), 1.0);  // decay starts at the peak
  EXPECT_NEAR(learning_rate(t, 60), 0.55, 1e-12);  // progress 0.5: half-way between lr and min_lr
  EXPECT_NEAR(learning_rate(t, 35), 0.1 + 0.45 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  EXPECT_DOUBLE_EQ(learning_rate(t, 110), 0.1);  // the last step reaches min_lr
  for (int64_t s = 11; s < 111; ++s) EXPECT_LT(learning_rate(t, s), learning_rate(t, s - 1));
}

TEST(LrSchedule, NoWarmupAndSingleStep) {
  TrainConfig t;
  t.lr = 2.0;
  t.min_lr = 0.0;
  t.warmup_steps = 0;
  t.steps = 1;
  EXPECT_DOUBLE_EQ(learning_rate(t, 0), 2.0);
  t.steps = 3;
  EXPECT_DOUBLE_EQ(learning_rate(t, 0), 2.0);
  EXPECT_NEAR(learning_rate(t, 1), 1.0, 1e-12);  // cos(pi/2): the midpoint
  EXPECT_NEAR(learning_rate(t, 2), 0.0, 1e-12);
}

}  // namespace
}  // namespace tessera::train
