// The training monitors' detectors on known inputs: throughput drops against the median of the
// intervals before, stragglers against the median of the other ranks, and the hang watchdog's
// real thread flagging a step that runs far past the recent median (and not an ordinary one).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "train/monitor.h"
#include "train/run_monitor.h"

namespace tessera::train {
namespace {

TEST(Median, UpperMedianOfTheFiniteValues) {
  EXPECT_EQ(median_of({3, 1, 2}), 2);
  EXPECT_EQ(median_of({4, 1, 3, 2}), 3);
  EXPECT_EQ(median_of({NAN, 5, INFINITY}), 5);
  EXPECT_TRUE(std::isnan(median_of({})));
}

TEST(ThroughputMonitor, FlagsAnIntervalBelowTheFractionOfTheMedianBefore) {
  ThroughputMonitor m(0.5);
  EXPECT_FALSE(m.observe(10, 100));
  EXPECT_FALSE(m.observe(20, 10));   // two intervals are needed before judging
  EXPECT_FALSE(m.observe(30, 110));  // median of {100, 10} = 100 (upper): 110 is fine
  EXPECT_FALSE(m.observe(40, 50));   // median of {100, 10, 110} = 100: 50 is not below 0.5 x 100
  const auto drop = m.observe(50, 49);  // median of {100, 10, 110, 50} = 100
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->step, 50);
  EXPECT_EQ(drop->kind, "throughput_drop");
  EXPECT_EQ(drop->rank, -1);
  EXPECT_NE(drop->message.find("49 tokens/s"), std::string::npos) << drop->message;
}

TEST(Stragglers, ARankSlowerThanTheRatioTimesTheOthersMedian) {
  EXPECT_FALSE(find_straggler(5, {1.0}, 1.5));                  // one rank: nothing to compare
  EXPECT_FALSE(find_straggler(5, {1.0, 1.2, 1.1, 1.4}, 1.5));  // 1.4 <= 1.5 x 1.1
  const auto s = find_straggler(7, {1.0, 1.2, 1.9, 1.1}, 1.5);  // 1.9 > 1.5 x median {1.0, 1.2, 1.1} = 1.1
  ASSERT_TRUE(s);
  EXPECT_EQ(s->rank, 2);
  EXPECT_EQ(s->step, 7);
  EXPECT_EQ(s->kind, "straggler");
  const auto two = find_straggler(1, {0.01, 0.05}, 1.5);  // two ranks: against the other one
  ASSERT_TRUE(two);
  EXPECT_EQ(two->rank, 1);
}

TEST(HangWatchdog, FlagsAStepFarPastTheRecentMedianWhileItRuns) {
  HangWatchdog w(/*factor=*/5, /*min_s=*/0.05, /*rank=*/3);
  for (int64_t step = 1; step <= 6; ++step) {  // an ordinary history: 10 ms steps
    w.step_started(step);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(w.step_finished(0.01, 0.0)) << step;
  }
  w.step_started(7);  // threshold max(0.05, 5 x 0.01) = 0.05 s
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto hung = w.step_finished(0.4, 0.1);
  ASSERT_TRUE(hung);
  EXPECT_EQ(hung->step, 7);
  EXPECT_DOUBLE_EQ(hung->threshold_s, 0.05);
  const Anomaly a = w.anomaly(*hung, 3);
  EXPECT_EQ(a.step, 7);
  EXPECT_EQ(a.rank, 3);
  EXPECT_EQ(a.kind, "hung_step");
  EXPECT_NE(a.message.find("step 7 took 0.40 s on rank 3 (0.30 s busy, 0.10 s waiting"), std::string::npos) << a.message;
  w.step_started(8);  // the hung step did not enter the history: 10 ms is ordinary again
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(w.step_finished(0.01, 0.0));
}

TEST(HangWatchdog, JudgesNothingBeforeItHasAHistory) {
  HangWatchdog w(2, 0.0, 0);
  w.step_started(1);  // the first steps (start-up) are never flagged
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(w.step_finished(0.1, 0.0));
}

TEST(Mfu, AchievedOverTheJobsPeak) {
  EXPECT_DOUBLE_EQ(mfu(6e9, 1000, 2, 10), 6e12 / 20e12);
  EXPECT_TRUE(std::isnan(mfu(6e9, 1000, 2, 0)));
}

}  // namespace
}  // namespace tessera::train
