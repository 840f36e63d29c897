// Run directories: layout, appended metrics lines, and clear errors.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "core/run_dir.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

TEST(RunDir, CreatesItsLayout) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_dir_test" / "run1";
  fs::remove_all(dir);
  RunDir run(dir);
  EXPECT_TRUE(fs::is_directory(run.checkpoints()));
  EXPECT_TRUE(fs::is_directory(run.logs()));
  RunDir again(dir);  // an existing run directory is reused
  EXPECT_EQ(again.metrics_path(), dir / "metrics.jsonl");
}

TEST(RunDir, MetricsAreOneJsonObjectPerLineAppendedOrFresh) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_dir_test" / "run2";
  fs::remove_all(dir);
  RunDir run(dir);
  {
    MetricsLog log(run.metrics_path(), MetricsLog::Mode::fresh);
    log.write({{"step", 1}, {"loss", 2.5}});
  }
  MetricsLog(run.metrics_path(), MetricsLog::Mode::append).write({{"step", 2}, {"loss", 2.0}, {"val_loss", 2.1}});
  auto read = [&] {
    std::ifstream in(run.metrics_path());
    std::string line;
    std::vector<nlohmann::json> records;
    while (std::getline(in, line)) records.push_back(nlohmann::json::parse(line));
    return records;
  };
  auto records = read();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["step"], 1);
  EXPECT_EQ(records[1]["val_loss"], 2.1);
  MetricsLog(run.metrics_path(), MetricsLog::Mode::fresh).write({{"step", 1}, {"loss", 9.0}});
  records = read();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["loss"], 9.0);
}

TEST(RunDir, UnwritablePlaceIsAClearError) {
  const fs::path file = fs::path(::testing::TempDir()) / "run_dir_test_file";
  std::ofstream(file) << "x";
  try {
    RunDir run(file / "sub");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create run directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera
