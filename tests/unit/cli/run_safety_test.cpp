// What a run directory never loses, through the real binary on real prepared data: an earlier run
// is refused or moved aside, never overwritten; a diverging run stops with its good checkpoints;
// an optional step never costs a checkpoint; runs work from any directory; metrics name each step
// once; silent situations get a line.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.h"
#include "checkpoint/commit.h"
#include "checkpoint/format.h"
#include "tests/unit/test_support.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing_support::CommandResult;
using testing_support::run_command;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;

class RunSafety : public ::testing::Test {
 protected:
  // Data prepared once for the suite: the test corpus, a 300-token tokenizer.
  static void SetUpTestSuite() {
    data_ = new TempDir;
    const auto r = run_command(kBin + " prepare --input " + std::string(TESSERA_TEST_DATA) + "/corpus --out " +
                               (*data_ / "data") + " --train-tokenizer --vocab-size 300");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { delete data_; }

  void SetUp() override {
    config_ = dir_.write("run.toml", "[model]\nfamily = \"gpt2\"\nn_layer = 2\nd_model = 32\nn_head = 4\nseq_len = 32\n"
                                     "vocab_size = 320\n[data]\ndir = \"" + (*data_ / "data") + "\"\n"
                                     "[train]\nbatch_size = 2\nsteps = 8\nlr = 1e-2\nmin_lr = 1e-3\nwarmup_steps = 2\n"
                                     "eval_interval = 4\neval_batches = 2\n[checkpoint]\nevery = 2\nkeep = 2\n");
    run_ = dir_ / "run";
  }

  CommandResult train(const std::string& extra = "") const {
    return run_command(kBin + " train --config " + config_ + " --run-dir " + run_ + " " + extra);
  }
  std::vector<nlohmann::json> metrics() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(run_ + "/metrics.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::vector<int64_t> steps_saved() const {
    std::vector<int64_t> out;
    for (const auto& l : checkpoint::list_checkpoints(run_ + "/checkpoints")) out.push_back(l.step);
    return out;
  }

  static TempDir* data_;
  TempDir dir_;
  std::string config_, run_;
};
TempDir* RunSafety::data_ = nullptr;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(RunSafety, ANewRunOverAnEarlierOneIsRefusedOrMovesItAside) {
  ASSERT_EQ(train().status, 0);
  ASSERT_EQ(run_command(kBin + " ckpt tag " + run_ + " 8 prod").status, 0);
  const CommandResult refused = train("--no-resume --set checkpoint.every=1 --stop-after 3");
  EXPECT_EQ(refused.status, 1);
  EXPECT_TRUE(contains(refused.output, "already holds a run")) << refused.output;
  EXPECT_EQ(metrics().size(), 8u);
  EXPECT_EQ(steps_saved(), (std::vector<int64_t>{6, 8}));

  const CommandResult fresh = train("--overwrite --set checkpoint.every=1 --stop-after 3");
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  EXPECT_EQ(steps_saved(), (std::vector<int64_t>{2, 3}));  // the new run's own, rotated among themselves
  EXPECT_EQ(metrics().size(), 3u);
  std::vector<fs::path> aside;
  for (const auto& e : fs::directory_iterator(run_ + "/superseded")) aside.push_back(e.path());
  ASSERT_EQ(aside.size(), 1u);
  for (const char* kept : {"checkpoints/step-00000006.h5", "checkpoints/step-00000008.h5", "checkpoints/tags.json",
                           "metrics.jsonl", "tokenizer.json"}) {
    EXPECT_TRUE(fs::exists(aside[0] / kept)) << kept;
  }
  // Tags and `latest` name files of this run only.
  const CommandResult tagged = run_command(kBin + " ckpt show " + run_ + ":prod");
  EXPECT_NE(tagged.status, 0);
  EXPECT_EQ(checkpoint::read_latest(run_ + "/checkpoints"), checkpoint::file_name_for_step(3));
}

TEST_F(RunSafety, ADivergingRunSkipsStepsThenStopsWithItsGoodCheckpoints) {
  const CommandResult r = train("--set train.lr=1e6 --set train.min_lr=1 --set train.grad_clip=0 --set checkpoint.every=1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "non-finite loss or gradient norm (train.max_bad_steps)")) << r.output;
  EXPECT_TRUE(contains(r.output, "step skipped, weights unchanged")) << r.output;
  int skipped = 0;
  for (const auto& m : metrics()) skipped += m.value("skipped", false) ? 1 : 0;
  EXPECT_EQ(skipped, 5);  // train.max_bad_steps, the last one written before the stop
  ASSERT_FALSE(steps_saved().empty());
  for (const auto step : steps_saved()) {
    const auto w = checkpoint::load_weights(run_ + ":" + std::to_string(step));
    const float* p = w.params.flat().data<float>();
    for (int64_t i = 0; i < w.params.numel(); ++i) ASSERT_TRUE(std::isfinite(p[i])) << "step " << step;
  }
  const CommandResult inf = train("--set train.lr=inf");
  EXPECT_EQ(inf.status, 1);
  EXPECT_TRUE(contains(inf.output, "train.lr must be a finite number")) << inf.output;
}

TEST_F(RunSafety, AModelVocabularyPaddedPastTheTokenizerStillCheckpoints) {
  const CommandResult r = train("--set model.vocab_size=5000 --set train.steps=4");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "sample (greedy)")) << r.output;
  EXPECT_EQ(steps_saved(), (std::vector<int64_t>{2, 4}));
}

TEST_F(RunSafety, RunsWorkFromAnyDirectoryWithoutTheirData) {
  ASSERT_EQ(train().status, 0);
  const auto info = nlohmann::json::parse(testing_support::slurp(run_ + "/run.json"));
  EXPECT_EQ(info["data_dir"], *data_ / "data");
  EXPECT_EQ(info["manifest_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(testing_support::slurp(run_ + "/tokenizer.json"), testing_support::slurp(*data_ / "data/tokenizer.json"));
  // From another working directory, with the data gone.
  fs::rename(*data_ / "data", *data_ / "moved");
  const CommandResult g = run_command("cd / && " + kBin + " generate --ckpt " + run_ + " --prompt 'The' --max-tokens 4");
  const CommandResult e = run_command("cd / && " + kBin + " ckpt export-gguf " + run_ + " " + (dir_ / "m.gguf"));
  // A run made by import-hf generates with the tokenizer.json in its run directory.
  const CommandResult hf = run_command("cd / && " + kBin + " ckpt export-hf " + run_ + " " + (dir_ / "hf") + " && " +
                                       kBin + " ckpt import-hf " + (dir_ / "hf") + " " + (dir_ / "imported"));
  const CommandResult gi = run_command("cd / && " + kBin + " generate --ckpt " + (dir_ / "imported") +
                                       " --prompt 'The' --max-tokens 4");
  fs::rename(*data_ / "moved", *data_ / "data");
  EXPECT_EQ(g.status, 0) << g.output;
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(fs::exists(dir_ / "m.gguf"));
  EXPECT_EQ(hf.status, 0) << hf.output;
  EXPECT_EQ(gi.status, 0) << gi.output;
}

TEST_F(RunSafety, WithoutLatestEveryCommandFindsTheNewestValidCheckpoint) {
  ASSERT_EQ(train().status, 0);
  fs::remove(run_ + "/checkpoints/latest");
  EXPECT_EQ(run_command(kBin + " ckpt verify " + run_).status, 0);
  const CommandResult g = run_command(kBin + " generate --ckpt " + run_ + " --prompt 'The' --max-tokens 4");
  EXPECT_EQ(g.status, 0) << g.output;
  EXPECT_EQ(run_command(kBin + " ckpt show " + run_ + " | grep -q 'step:  *8'").status, 0);
}

TEST_F(RunSafety, EveryCorruptCheckpointIsSetAsideAndTheRunIsNotRestartedOverIt) {
  ASSERT_EQ(train().status, 0);
  for (const auto step : steps_saved()) fs::resize_file(run_ + "/checkpoints/" + checkpoint::file_name_for_step(step), 4096);
  for (int attempt = 0; attempt < 2; ++attempt) {  // also once all are in quarantine
    const CommandResult r = train("--set train.steps=12");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "no checkpoint there verifies")) << r.output;
  }
  EXPECT_TRUE(fs::exists(run_ + "/checkpoints/quarantine/step-00000008.h5"));
  EXPECT_TRUE(fs::exists(run_ + "/checkpoints/quarantine/step-00000006.h5"));
  EXPECT_EQ(metrics().size(), 8u);
}

TEST_F(RunSafety, MetricsNameEveryStepOnceAcrossResumes) {
  ASSERT_EQ(train("--stop-after 3 --set checkpoint.every=2").status, 0);
  // The checkpoint of step 3 lost (a crash after the metrics line, before the save's commit).
  fs::remove(run_ + "/checkpoints/" + checkpoint::file_name_for_step(3));
  const CommandResult resumed = train();
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resuming from")) << resumed.output;
  const auto records = metrics();
  ASSERT_EQ(records.size(), 8u);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i]["step"], static_cast<int>(i) + 1);
  const CommandResult again = train();
  EXPECT_EQ(again.status, 0);
  EXPECT_TRUE(contains(again.output, "nothing to train")) << again.output;
  EXPECT_FALSE(contains(again.output, "nan")) << again.output;
  EXPECT_EQ(metrics().size(), 8u);
}

TEST_F(RunSafety, ALossSpikeRollsBackToTheNewestCheckpointAndSkipsItsData) {
  const std::string spike = "--set train.steps=30 --set train.eval_interval=0 --set checkpoint.every=5 "
                            "--set train.spike_zscore=8 --set train.spike_window=10";
  const CommandResult r = run_command("TESSERA_TEST_SPIKE_AT=22 " + kBin + " train --config " + config_ +
                                      " --run-dir " + run_ + " " + spike);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "step 22: loss spike")) << r.output;
  EXPECT_TRUE(contains(r.output, "rolled back to step 20 and skipped the data of 2 step(s)")) << r.output;
  std::vector<int64_t> steps;
  int events = 0;
  for (const auto& m : metrics()) {
    if (m.contains("event")) {
      ++events;
      EXPECT_EQ(m["event"], "rollback");
      EXPECT_EQ(m["step"], 20);
      EXPECT_EQ(m["spike_step"], 22);
    } else {
      steps.push_back(m["step"].get<int64_t>());
    }
  }
  EXPECT_EQ(events, 1);
  ASSERT_EQ(steps.size(), 30u);
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i) + 1);
  // The same run without the spike: equal up to step 20, then other data.
  const std::string straight = dir_ / "straight";
  ASSERT_EQ(run_command(kBin + " train --config " + config_ + " --run-dir " + straight + " " + spike).status, 0);
  std::vector<double> a, b;
  for (const auto& m : metrics()) {
    if (!m.contains("event")) a.push_back(m["loss"].get<double>());
  }
  std::ifstream in(straight + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) b.push_back(nlohmann::json::parse(line)["loss"].get<double>());
  ASSERT_EQ(b.size(), 30u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
  EXPECT_NE(a[20], b[20]) << "step 21 trained on the same data as without the spike";
}

TEST_F(RunSafety, SilentSituationsGetALine) {
  const CommandResult random = run_command(kBin + " train --config " + std::string(TESSERA_TEST_DATA) +
                                           "/configs/tiny.toml --set train.steps=2");
  EXPECT_EQ(random.status, 0) << random.output;
  EXPECT_TRUE(contains(random.output, "training on random tokens")) << random.output;
  EXPECT_TRUE(contains(random.output, "this run saves nothing")) << random.output;
  const CommandResult trained = train();
  EXPECT_TRUE(contains(trained.output, "nats/token (")) << trained.output;
  EXPECT_FALSE(contains(trained.output, "(-")) << trained.output;  // never "-1.54 lower"
  const CommandResult ls = run_command(kBin + " ckpt ls " + (dir_ / ""));
  EXPECT_EQ(ls.status, 1);
  EXPECT_TRUE(contains(ls.output, "holds no checkpoints")) << ls.output;
  const CommandResult huge = train("--overwrite --set model.n_layer=20000 --set model.d_model=4096 --set model.n_head=32");
  EXPECT_EQ(huge.status, 1);
  EXPECT_TRUE(contains(huge.output, "more than the")) << huge.output;
}

}  // namespace
}  // namespace tessera
