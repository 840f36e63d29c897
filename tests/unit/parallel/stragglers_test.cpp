// Straggler statistics over an in-process group with known step times.
#include <gtest/gtest.h>

#include <thread>

#include "parallel/in_process.h"
#include "parallel/stragglers.h"

namespace tessera::parallel {
namespace {

TEST(Stragglers, SlowestRankAndRatioToTheMedian) {
  const std::vector<double> times = {0.8, 0.7, 1.6, 0.9};  // median 0.85; rank 2 is 1.88x slower
  auto comms = make_in_process_group(4, "world");
  std::vector<StepTimeReport> reports(4);
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) threads.emplace_back([&, r] { reports[r] = gather_step_times(*comms[r], times[r]); });
  for (auto& t : threads) t.join();
  for (const auto& report : reports) {
    EXPECT_EQ(report.seconds, times);
    EXPECT_EQ(report.slowest_rank, 2);
    EXPECT_DOUBLE_EQ(report.median, 0.85);
    EXPECT_DOUBLE_EQ(report.max_over_median, 1.6 / 0.85);
  }
  EXPECT_EQ(reports[0].summary(), "slowest rank 2: 1.600 s/step, 1.88x the median 0.850 s");
}

}  // namespace
}  // namespace tessera::parallel
