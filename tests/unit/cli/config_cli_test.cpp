// The tessera binary: exit codes and messages of the config and info commands.
#include <gtest/gtest.h>

#include "tests/unit/test_support.h"

namespace {

using namespace tessera::testing_support;

// Runs the tessera binary with `args`.
CommandResult run(const std::string& args) { return run_command(std::string(TESSERA_BIN) + " " + args); }

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  spit(path, text);
  return path;
}

const std::string kConfigs = std::string(TESSERA_TEST_DATA) + "/../../configs";

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(run("--help").status, 0);
  EXPECT_NE(run("--help").output.find("config"), std::string::npos);
  EXPECT_EQ(run("config --help").status, 0);
  EXPECT_NE(run("--version").output.find("tessera "), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("no-such-command").status, 2);
  EXPECT_EQ(run("config").status, 2);  // --config is required
}

TEST(Cli, ConfigPrintsTheResolvedConfig) {
  const CommandResult r = run("config --config " + kConfigs + "/quickstart.toml --set train.lr=0.5 --json");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"lr\":0.5"), std::string::npos) << r.output;
}

TEST(Cli, BadConfigsExitOneWithTheKeyNamed) {
  const std::string bad_key = write_temp("bad_key.toml", "[train]\nlearning_rate = 1.0\n");
  CommandResult r = run("config --config " + bad_key);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown key 'learning_rate' in [train]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad_key.toml"), std::string::npos) << r.output;

  const std::string bad_toml = write_temp("bad_toml.toml", "[model\nn_layer = 1\n");
  r = run("config --config " + bad_toml);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("invalid TOML"), std::string::npos) << r.output;

  r = run("config --config /nonexistent.toml");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("cannot read config file"), std::string::npos) << r.output;

  const std::string garbage = write_temp("garbage.toml", std::string("\x7f\x45\x4c\x46\x00\x01\xff\xfe", 8));
  r = run("config --config " + garbage);
  EXPECT_EQ(r.status, 1) << r.output;
}

TEST(Cli, InfoRuns) {
  const CommandResult r = run("info");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("world size 1"), std::string::npos) << r.output;
}

}  // namespace
