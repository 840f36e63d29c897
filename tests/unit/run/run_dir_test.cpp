// Run directories: layout, metrics lines cut back on resume, earlier runs moved aside, clear errors.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "run/run_dir.h"

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

std::vector<nlohmann::json> read_metrics(const RunDir& run) {
  std::ifstream in(run.metrics_path());
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(in, line)) records.push_back(nlohmann::json::parse(line));
  return records;
}

TEST(RunDir, MetricsAreOneJsonObjectPerLineFreshOrResumed) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_dir_test" / "run2";
  fs::remove_all(dir);
  RunDir run(dir);
  {
    MetricsLog log = MetricsLog::fresh(run.metrics_path());
    for (int step = 1; step <= 6; ++step) log.write({{"step", step}, {"loss", 10.0 - step}});
  }
  std::ofstream(run.metrics_path(), std::ios::app) << "{\"step\": 7, \"lo";  // a line cut by a kill
  // Resumed from the checkpoint of step 4: steps 5-7 go, the run writes them again once each.
  MetricsLog resumed = MetricsLog::resumed(run.metrics_path(), 4);
  resumed.write({{"step", 5}, {"loss", 1.5}, {"val_loss", 2.1}});
  auto records = read_metrics(run);
  ASSERT_EQ(records.size(), 5u);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i]["step"], static_cast<int>(i) + 1);
  EXPECT_EQ(records[3]["loss"], 6.0);
  EXPECT_EQ(records[4]["val_loss"], 2.1);
  MetricsLog::fresh(run.metrics_path()).write({{"step", 1}, {"loss", 9.0}});
  records = read_metrics(run);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["loss"], 9.0);
}

TEST(RunDir, AnEarlierRunIsSeenAndMovedAsideWhole) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_dir_test" / "run3";
  fs::remove_all(dir);
  RunDir run(dir);
  EXPECT_EQ(run.earlier_run(), "");
  std::ofstream(run.checkpoints() / "step-00000002.h5") << "weights";
  std::ofstream(run.checkpoints() / "latest") << "step-00000002.h5\n";
  MetricsLog::fresh(run.metrics_path()).write({{"step", 1}});
  std::ofstream(run.config_path()) << "[train]\n";
  EXPECT_EQ(run.earlier_run(), "2 file(s) in checkpoints/, 1 line(s) in metrics.jsonl");
  const fs::path moved = run.set_aside();
  EXPECT_EQ(moved.parent_path(), dir / "superseded");
  EXPECT_TRUE(fs::exists(moved / "checkpoints" / "step-00000002.h5"));
  EXPECT_TRUE(fs::exists(moved / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(moved / "config.toml"));
  EXPECT_EQ(run.earlier_run(), "");
  EXPECT_TRUE(fs::is_directory(run.checkpoints()));
  EXPECT_FALSE(fs::exists(run.config_path()));
  std::ofstream(run.checkpoints() / "step-00000001.h5") << "again";
  const fs::path second = run.set_aside();  // a second overwrite keeps the first one's folder
  EXPECT_NE(second, moved);
  EXPECT_TRUE(fs::exists(moved / "checkpoints" / "step-00000002.h5"));
  EXPECT_TRUE(fs::exists(second / "checkpoints" / "step-00000001.h5"));
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
