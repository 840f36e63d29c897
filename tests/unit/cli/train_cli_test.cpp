// `tessera train` checkpoint cadence through the CLI: by steps, by wall time, and only the last
// step when both are off. The checkpoints a run leaves are its files in RUN_DIR/checkpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/test_support.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing_support::run_command;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;
const std::string kTiny = std::string(TESSERA_TEST_DATA) + "/configs/tiny.toml";

// The checkpoint files a 4-step run of the tiny config leaves, sorted.
std::vector<std::string> checkpoints_of(const TempDir& dir, const std::string& cadence) {
  const fs::path run = dir.path / "run";
  const auto r = run_command(kBin + " train --config " + kTiny + " --run-dir " + run.string() +
                             " --set train.steps=4 --set checkpoint.keep=10 " + cadence);
  EXPECT_EQ(r.status, 0) << r.output;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(run / "checkpoints")) {
    if (e.path().extension() == ".h5") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(TrainCli, CheckpointsOnlyAtTheEndWhenCadenceIsOff) {
  TempDir dir;
  EXPECT_EQ(checkpoints_of(dir, ""), std::vector<std::string>{"step-00000004.h5"});
}

TEST(TrainCli, CheckpointsEveryNSteps) {
  TempDir dir;
  EXPECT_EQ(checkpoints_of(dir, "--set checkpoint.every=2"),
            (std::vector<std::string>{"step-00000002.h5", "step-00000004.h5"}));
}

TEST(TrainCli, CheckpointsByWallTime) {
  TempDir dir;  // a minute's millionth has always passed since the last save: every step saves
  EXPECT_EQ(checkpoints_of(dir, "--set checkpoint.every_minutes=1e-6"),
            (std::vector<std::string>{"step-00000001.h5", "step-00000002.h5", "step-00000003.h5",
                                      "step-00000004.h5"}));
  TempDir hour;  // an hour has not: only the last step saves
  EXPECT_EQ(checkpoints_of(hour, "--set checkpoint.every_minutes=60"), std::vector<std::string>{"step-00000004.h5"});
}

TEST(TrainCli, NegativeWallTimeCadenceIsAConfigError) {
  TempDir dir;
  const auto r = run_command(kBin + " train --config " + kTiny + " --run-dir " + (dir.path / "run").string() +
                             " --set checkpoint.every_minutes=-1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("checkpoint.every_minutes"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tessera
