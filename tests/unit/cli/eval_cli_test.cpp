// tessera eval through the real binary on real prepared data and a trained tiny model: the report
// directory's files and their documented fields, a model compared with its earlier checkpoint,
// the built-in cloze task reproducible, generation tasks on the serving engine, a GGUF export of
// the checkpoint given as --model, and clear errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "tests/unit/cli/tiny_run.h"
#include "tests/unit/test_support.h"

namespace tessera {
namespace {

using testing_support::CommandResult;
using testing_support::run_command;
using testing_support::slurp;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;

class EvalCli : public ::testing::Test {
 protected:
  // The test corpus prepared (half held out) and a tiny model trained 8 steps, checkpoints at 4 and 8.
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const CommandResult r = testing_support::train_tiny_run(*dir_, [](Config& c) {
      c.train.batch_size = 4;
      c.train.steps = 8;
      c.train.eval_interval = 0;
      c.checkpoint.every = 4;
    });
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }

  static CommandResult eval(const std::string& args) { return run_command(kBin + " eval --ckpt " + (*dir_ / "run") + " " + args); }

  static TempDir* dir_;
  TempDir out_;
};
TempDir* EvalCli::dir_ = nullptr;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(EvalCli, WritesResultsSamplesAndAReportComparingTwoCheckpoints) {
  const CommandResult r = eval("--ckpt " + (*dir_ / "run") + ":4 --max-items 20 --report " + (out_ / "rep"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "perplexity")) << r.output;
  const auto j = nlohmann::json::parse(slurp(out_ / "rep/results.json"));
  EXPECT_EQ(j["format"], "tessera-eval-results");
  EXPECT_EQ(j["format_version"], 1);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["checkpoint"]["step"], 8);
  EXPECT_EQ(j["models"][1]["checkpoint"]["step"], 4);
  EXPECT_EQ(j["models"][0]["lineage"].size(), 3u);
  EXPECT_EQ(j["models"][0]["data_manifest_sha256"], sha256_file(*dir_ / "data/manifest.json"));
  EXPECT_EQ(j["models"][0]["tokenizer_hash"].get<std::string>().size(), 64u);
  const auto& ppl = j["models"][0]["tasks"]["val_perplexity"];
  EXPECT_EQ(ppl["n"], 20);
  const double loss = ppl["metrics"]["mean_loss"]["value"];
  EXPECT_NEAR(ppl["metrics"]["perplexity"]["value"].get<double>(), std::exp(loss), 1e-9 * std::exp(loss));
  EXPECT_LT(loss, j["models"][1]["tasks"]["val_perplexity"]["metrics"]["mean_loss"]["value"].get<double>());
  EXPECT_LT(loss, std::log(320.0));  // better than uniform after training
  const auto& cloze = j["models"][0]["tasks"]["cloze"];
  EXPECT_EQ(cloze["kind"], "multiple_choice");
  EXPECT_GE(cloze["n"].get<int>(), 2);
  const double acc = cloze["metrics"]["acc"]["value"];
  EXPECT_NEAR(cloze["metrics"]["acc"]["stderr"].get<double>(), std::sqrt(acc * (1 - acc) / cloze["n"].get<double>()), 1e-12);
  const std::string samples = slurp(out_ / "rep/samples.jsonl");
  const auto first = nlohmann::json::parse(samples.substr(0, samples.find('\n')));
  EXPECT_EQ(first["task"], "cloze");
  EXPECT_EQ(first["index"], 0);
  EXPECT_GE(first["log_likelihoods"].size(), 2u);
  const std::string report = slurp(out_ / "rep/report.md");
  EXPECT_TRUE(contains(report, "| mean_loss |")) << report;
  EXPECT_TRUE(contains(report, "model 2 - model 1")) << report;
}

TEST_F(EvalCli, TheClozeTaskIsTheSameForASeed) {
  ASSERT_EQ(eval("--report " + (out_ / "a")).status, 0);
  ASSERT_EQ(eval("--report " + (out_ / "b")).status, 0);
  ASSERT_EQ(eval("--cloze-seed 7 --report " + (out_ / "c")).status, 0);
  EXPECT_EQ(slurp(out_ / "a/samples.jsonl"), slurp(out_ / "b/samples.jsonl"));
  EXPECT_NE(slurp(out_ / "a/samples.jsonl"), slurp(out_ / "c/samples.jsonl"));
}

TEST_F(EvalCli, TaskFilesAreScoredAndBadOnesNameTheLine) {
  const std::string tasks = out_.write("qa.jsonl", "{\"context\": \"Shards are\", \"choices\": [\" files\", \" cats\"], "
                                                   "\"label\": 0}\n");
  ASSERT_EQ(eval("--tasks " + tasks + " --report " + (out_ / "rep")).status, 0);
  const auto j = nlohmann::json::parse(slurp(out_ / "rep/results.json"));
  EXPECT_EQ(j["models"][0]["tasks"]["qa"]["n"], 1);
  EXPECT_FALSE(j["models"][0]["tasks"].contains("val_perplexity"));

  const std::string bad = out_.write("bad.jsonl", slurp(tasks) + "{\"context\": \"x\", \"choices\": [\" y\"], \"label\": 3}\n");
  const CommandResult r = eval("--tasks " + bad + " --report " + (out_ / "bad"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "bad.jsonl:2: label 3 is out of range for 1 choices")) << r.output;
}

TEST_F(EvalCli, BadInputIsAClearError) {
  CommandResult r = run_command(kBin + " eval --ckpt " + (out_ / "none") + " --report " + (out_ / "rep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "is not a checkpoint file")) << r.output;
  const std::string file = out_.write("file", "x");
  r = eval("--report " + file);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "cannot create the report directory")) << r.output;
  r = eval("--tasks " + (out_ / "missing.jsonl") + " --report " + (out_ / "rep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "missing.jsonl' does not exist")) << r.output;
}

TEST_F(EvalCli, GenerationTasksAreScoredOnTheEngineAndReported) {
  const std::string tasks = std::string(TESSERA_TEST_DATA) + "/eval/generation.jsonl";
  ASSERT_EQ(eval("--tasks " + tasks + " --report " + (out_ / "rep")).status, 0);
  const auto j = nlohmann::json::parse(slurp(out_ / "rep/results.json"));
  const auto& gen = j["models"][0]["tasks"]["generation"];
  EXPECT_EQ(gen["kind"], "generation");
  ASSERT_EQ(gen["n"], 5);
  const double em = gen["metrics"]["exact_match"]["value"];
  EXPECT_NEAR(gen["metrics"]["exact_match"]["stderr"].get<double>(), std::sqrt(em * (1 - em) / 5), 1e-12);
  const std::string samples = slurp(out_ / "rep/samples.jsonl");
  std::vector<nlohmann::json> lines;
  for (size_t start = 0, end; (end = samples.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(nlohmann::json::parse(samples.substr(start, end - start)));
  }
  ASSERT_EQ(lines.size(), 5u);
  double f1 = 0;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(lines[i]["task"], "generation");
    EXPECT_EQ(lines[i]["index"], i);
    EXPECT_TRUE(lines[i]["finish_reason"] == "stop" || lines[i]["finish_reason"] == "length") << lines[i];
    EXPECT_GE(lines[i]["tokens"].get<int>(), 1);
    f1 += lines[i]["f1"].get<double>();
  }
  EXPECT_EQ(lines[0]["references"], nlohmann::json::array({" leak into training."}));
  EXPECT_LE(lines[0]["tokens"].get<int>(), 6);  // the item's max_tokens
  EXPECT_DOUBLE_EQ(gen["metrics"]["f1"]["value"].get<double>(), f1 / 5);
  const std::string report = slurp(out_ / "rep/report.md");
  EXPECT_TRUE(contains(report, "## generation (generation, n = 5)")) << report;
  EXPECT_TRUE(contains(report, "| exact_match |")) << report;
  const std::string html = slurp(out_ / "rep/report.html");
  EXPECT_TRUE(contains(html, "id=\"metric-generation-exact_match\"") && contains(html, "id=\"metric-generation-f1\""));

  // The same prompts with the model's own outputs as references: every item matches exactly.
  std::ifstream in(tasks);
  std::string own;
  size_t i = 0;
  for (std::string line; std::getline(in, line); ++i) {
    auto item = nlohmann::json::parse(line);
    item.erase("references");
    item["reference"] = lines[i]["output"];
    own += item.dump() + "\n";
  }
  ASSERT_EQ(eval("--tasks " + out_.write("own.jsonl", own) + " --report " + (out_ / "own")).status, 0);
  const auto o = nlohmann::json::parse(slurp(out_ / "own/results.json"))["models"][0]["tasks"]["own"]["metrics"];
  EXPECT_EQ(o["exact_match"]["value"], 1.0);
  EXPECT_EQ(o["f1"]["value"], 1.0);
}

TEST_F(EvalCli, MalformedGenerationLinesNameTheLine) {
  const std::string good = "{\"prompt\": \"Shards\", \"reference\": \" are\"}\n";
  CommandResult r = eval("--tasks " + out_.write("gen.jsonl", good + "{\"reference\": \"x\"}\n") + " --report " +
                         (out_ / "a"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "gen.jsonl:2: the item has no \"prompt\"")) << r.output;
  r = eval("--tasks " + out_.write("ref.jsonl", good + "\n{\"prompt\": \"a\", \"reference\": [1]}\n") +
           " --report " + (out_ / "b"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "ref.jsonl:3: \"reference\" must be a string")) << r.output;
}

TEST_F(EvalCli, GgufAndHfExportsGiveTheCheckpointsPerplexity) {
  const std::string gguf = out_ / "m.gguf", hf = out_ / "hf";
  CommandResult r = run_command(kBin + " ckpt export-gguf " + (*dir_ / "run") + " " + gguf + " --dtype f32");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(kBin + " ckpt export-hf " + (*dir_ / "run") + " " + hf);
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(kBin + " eval --model " + gguf + " --report " + (out_ / "none"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "carries no lineage of its training data: pass --data DIR")) << r.output;

  ASSERT_EQ(eval("--max-items 20 --report " + (out_ / "ckpt")).status, 0);
  const auto a = nlohmann::json::parse(slurp(out_ / "ckpt/results.json"))["models"][0];
  for (const std::string& model : {gguf, hf}) {
    r = run_command(kBin + " eval --model " + model + " --data " + (*dir_ / "data") + " --max-items 20 --report " +
                    (out_ / "model"));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto b = nlohmann::json::parse(slurp(out_ / "model/results.json"))["models"][0];
    EXPECT_EQ(b["ref"], model);
    EXPECT_EQ(b["checkpoint"]["step"], 0);
    EXPECT_EQ(b["tasks"]["val_perplexity"]["n"], 20);
    for (const char* metric : {"mean_loss", "perplexity", "bits_per_byte"}) {
      const double x = a["tasks"]["val_perplexity"]["metrics"][metric]["value"];
      const double y = b["tasks"]["val_perplexity"]["metrics"][metric]["value"];
      EXPECT_NEAR(y, x, 1e-6 * x) << model << " " << metric;
    }
    EXPECT_EQ(b["tasks"]["cloze"]["metrics"]["acc"]["value"], a["tasks"]["cloze"]["metrics"]["acc"]["value"]) << model;
  }
}

}  // namespace
}  // namespace tessera
