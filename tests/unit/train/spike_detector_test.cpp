// Loss spikes: the z-score against a full window, closed-form mean and deviation, reset.
#include "train/spike_detector.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera::train {
namespace {

TEST(SpikeDetector, FlagsALossFarAboveAFullWindowOnly) {
  SpikeDetector d(3.0, 4);
  for (const double l : {2.0, 4.0, 2.0}) d.record(l);
  EXPECT_FALSE(d.is_spike(1e9)) << "a window not yet full never flags";
  d.record(4.0);  // window {2, 4, 2, 4}: mean 3, sample deviation sqrt(4/3)
  EXPECT_DOUBLE_EQ(d.mean(), 3.0);
  EXPECT_DOUBLE_EQ(d.stddev(), std::sqrt(4.0 / 3.0));
  const double edge = 3.0 + 3.0 * std::sqrt(4.0 / 3.0);
  EXPECT_FALSE(d.is_spike(edge - 1e-9));
  EXPECT_TRUE(d.is_spike(edge + 1e-9));
  EXPECT_FALSE(d.is_spike(-100)) << "a drop is no spike";
  d.record(10.0);  // the oldest (2) leaves: {4, 2, 4, 10}
  EXPECT_DOUBLE_EQ(d.mean(), 5.0);
  d.reset();
  EXPECT_FALSE(d.is_spike(1e9));
}

TEST(SpikeDetector, OffOrFlatNeverFlags) {
  SpikeDetector off(0.0, 2);
  off.record(1);
  off.record(2);
  EXPECT_FALSE(off.is_spike(1e9));
  SpikeDetector flat(3.0, 3);
  for (int i = 0; i < 3; ++i) flat.record(5.0);
  EXPECT_FALSE(flat.is_spike(6.0)) << "no deviation: no z-score";
}

}  // namespace
}  // namespace tessera::train
