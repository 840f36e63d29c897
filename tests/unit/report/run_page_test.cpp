// The run monitoring page from a run directory written by hand: every chart, the summary counts,
// the anomalies and events with step and rank, checkpoints joined with evaluation results, a torn
// metrics line counted and skipped, and a clear error for a directory that is not a run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "report/run_metrics.h"
#include "report/run_page.h"
#include "tests/unit/test_support.h"

namespace tessera::report {
namespace {

using testing_support::TempDir;

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

class RunPage : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path / "checkpoints");
    std::filesystem::create_directories(dir_.path / "eval");
    dir_.write("metrics.jsonl",
               R"({"step":1,"loss":5.0,"lr":0.001,"grad_norm":2.0,"tokens_per_s":1000,"step_s":0.5,"mfu":0.25})" "\n"
               R"({"step":2,"loss":4.0,"lr":0.002,"grad_norm":1.5,"tokens_per_s":1100,"step_s":0.4,"rank_step_s":[0.3,0.9],)"
               R"("anomalies":[{"step":2,"kind":"straggler","rank":1,"message":"rank 1 is busy 0.900 s per step"}]})" "\n"
               R"({"step":3,"loss":null,"lr":0.003,"grad_norm":null,"tokens_per_s":1000,"step_s":0.5,"skipped":true})" "\n"
               R"({"step":4,"loss":3.0,"lr":0.004,"grad_norm":1.0,"tokens_per_s":1200,"step_s":0.4,"val_loss":3.5,"rank_step_s":[0.3,0.35]})" "\n"
               R"({"step":2,"event":"rollback","spike_step":5,"spike_loss":300.0,"skipped_data_steps":3})" "\n"
               R"({"step":5,"loss":)");  // torn by a kill
    dir_.write("checkpoints/step-00000004.h5", "placeholder");
    dir_.write("eval/results.json",
               R"({"format":"tessera-eval-results","format_version":1,"models":[{"ref":"r","checkpoint":{"step":4},)"
               R"("tasks":{"val_perplexity":{"metrics":{"mean_loss":{"value":4.1,"stderr":0.05}}}}}]})");
  }
  TempDir dir_;
};

TEST_F(RunPage, ReadsEveryKindOfMetricsLine) {
  const RunMetrics rm = read_run_metrics(dir_.path / "metrics.jsonl");
  ASSERT_EQ(rm.steps.size(), 4u);
  EXPECT_EQ(rm.bad_lines, 1u);
  EXPECT_TRUE(std::isnan(rm.steps[2].loss));
  EXPECT_TRUE(rm.steps[2].skipped);
  EXPECT_EQ(rm.steps[1].rank_step_s, (std::vector<double>{0.3, 0.9}));
  EXPECT_EQ(rm.steps[3].val_loss, 3.5);
  EXPECT_EQ(rm.steps[0].mfu, 0.25);
  ASSERT_EQ(rm.events.size(), 2u);
  EXPECT_EQ(rm.events[0].kind, "straggler");
  EXPECT_EQ(rm.events[0].rank, 1);
  EXPECT_EQ(rm.events[1].kind, "rollback");
  EXPECT_NE(rm.events[1].message.find("loss spike at step 5"), std::string::npos) << rm.events[1].message;
}

TEST_F(RunPage, HasEveryChartTheEventsAndTheCheckpointsWithTheirEvaluations) {
  const std::filesystem::path page_path = write_run_page(dir_.path);
  EXPECT_EQ(page_path, dir_.path / "report.html");
  const std::string page = testing_support::slurp(page_path.string());
  for (const char* id : {"loss", "lr", "grad-norm", "throughput", "mfu", "rank-step-times"}) {
    EXPECT_EQ(count(page, std::string("class=\"chart\" id=\"") + id + "\""), 1u) << id;
  }
  EXPECT_EQ(count(page, "<svg"), 6u);
  EXPECT_EQ(count(page, "<script"), 0u);
  // Two ranks' busy times, two events marked on the loss chart, the skipped step a gap.
  EXPECT_NE(page.find("data-series=\"rank 0\""), std::string::npos);
  EXPECT_NE(page.find("data-series=\"rank 1\""), std::string::npos);
  EXPECT_EQ(count(page, "class=\"marker\""), 2u);
  EXPECT_NE(page.find("<td>skipped steps</td><td>1</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>rollbacks</td><td>1</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>unreadable metrics lines</td><td>1</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>2</td><td>straggler</td><td>1</td><td>rank 1 is busy 0.900 s per step</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>4</td><td><code>step-00000004.h5</code></td><td>val_perplexity mean_loss 4.1000 ± 0.0500"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.path / "report.html.tmp"));
}

TEST(RunPageErrors, ADirectoryThatIsNotARunIsNamed) {
  TempDir dir;
  try {
    write_run_page(dir.path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a run directory"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.path.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_run_page(dir.path / "missing"), Error);
}

}  // namespace
}  // namespace tessera::report
