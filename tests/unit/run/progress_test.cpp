// Progress lines: durations, percentages, and rate and ETA (of a resumed task too).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "run/progress.h"

namespace tessera {
namespace {

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(65.4), "1:05");
  EXPECT_EQ(format_duration(3 * 3600 + 2 * 60 + 1), "3:02:01");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Progress, LineShowsPercentRateAndEta) {
  Progress p("prepare", 200.0, "MB");
  p.update(50.0);
  const std::string line = p.line();
  EXPECT_EQ(line.rfind("prepare  25.0%", 0), 0u) << line;
  EXPECT_NE(line.find("50/200"), std::string::npos) << line;
  EXPECT_NE(line.find("MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  p.finish();
  EXPECT_EQ(p.line().find("ETA"), std::string::npos) << "a finished task has no ETA";
}

// "train 60.0% 600/1000 R steps/s ... ETA E": R and E parsed.
std::pair<double, double> rate_and_eta(const std::string& line) {
  const size_t unit = line.find(" steps/s");
  const size_t start = line.rfind(' ', unit - 1) + 1;
  const double rate = std::stod(line.substr(start, unit - start));
  const std::string eta = line.substr(line.find("ETA ") + 4);
  const size_t colon = eta.find(':');
  return {rate, std::stod(eta.substr(0, colon)) * 60 + std::stod(eta.substr(colon + 1))};
}

TEST(Progress, AResumedTaskCountsOnlyItsOwnWorkInTheRateAndEta) {
  Progress p("train", 1000.0, "steps");
  p.start_at(600.0);  // 600 steps done by an earlier run
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  p.update(610.0);  // 10 steps in about half a second: about 20 steps/s, 390 left: about 20 s
  const std::string line = p.line();
  EXPECT_NE(line.find("61.0%"), std::string::npos) << line;
  const auto [rate, eta] = rate_and_eta(line);
  EXPECT_LE(rate, 20.0) << line;  // counting the earlier 600 would give over 1000 steps/s
  EXPECT_GT(rate, 1.0) << line;
  EXPECT_GE(eta, 19.0) << line;   // 390 steps at 20 steps/s or fewer
  EXPECT_LT(eta, 390.0) << line;
  p.finish();
}

TEST(Progress, UnknownTotalHasNoPercentage) {
  Progress p("scan", 0.0, "files");
  p.advance(3);
  p.advance(4);
  const std::string line = p.line();
  EXPECT_EQ(line.find('%'), std::string::npos) << line;
  EXPECT_NE(line.find("scan 7 "), std::string::npos) << line;
  p.finish();
}

}  // namespace
}  // namespace tessera
