// Progress lines: durations, percentages and ETA.
#include <gtest/gtest.h>

#include "core/progress.h"

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
