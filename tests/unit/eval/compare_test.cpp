// Version comparisons against hand-computed values: the paired standard error of per-example
// differences, the unpaired one when the examples differ, the direction of better and worse, and
// per-window perplexity expansions whose mean is the metric.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/compare.h"
#include "eval/perplexity.h"

namespace tessera::eval {
namespace {

ModelResult model(const std::string& source, std::vector<double> right, double loss, std::vector<double> losses) {
  const auto n = static_cast<double>(right.size());
  double acc = 0;
  for (double r : right) acc += r / n;
  TaskResult mc{"task", "multiple_choice", source, right.size(), {{"acc", acc, std::sqrt(acc * (1 - acc) / n), right}}, {}};
  TaskResult ppl{"val_perplexity", "perplexity", source, losses.size(), {{"mean_loss", loss, 0.5, losses}}, {}};
  return {"ref", "file", {}, {ppl, mc}};
}

TEST(Compare, PairedStandardErrorOfThePerExampleDifferences) {
  // d = (0, 1, 0, -1): mean 0, sample sd sqrt(2/3), stderr sqrt(2/3)/2.
  const auto cs = compare({model("s", {1, 0, 1, 1}, 2.0, {2, 2, 2, 2}), model("s", {1, 1, 1, 0}, 1.9, {1.9, 1.8, 2.0, 1.9})});
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].task, "task");
  EXPECT_TRUE(cs[1].paired);
  EXPECT_DOUBLE_EQ(cs[1].difference, 0.0);
  EXPECT_NEAR(cs[1].stderr_value, std::sqrt(2.0 / 3.0) / 2.0, 1e-15);
  EXPECT_FALSE(cs[1].significant);
  EXPECT_EQ(cs[1].mark, "");
  // Loss: d = (-0.1, -0.2, 0, -0.1): mean -0.1, sd sqrt(0.02/3), stderr sqrt(0.02/3)/2 = 0.0408;
  // z = -2.449: significant, and lower loss is better.
  EXPECT_EQ(cs[0].metric, "mean_loss");
  EXPECT_NEAR(cs[0].difference, -0.1, 1e-12);
  EXPECT_NEAR(cs[0].stderr_value, std::sqrt(0.02 / 3.0) / 2.0, 1e-12);
  EXPECT_NEAR(cs[0].z, -0.1 / (std::sqrt(0.02 / 3.0) / 2.0), 1e-9);
  EXPECT_TRUE(cs[0].significant);
  EXPECT_EQ(cs[0].mark, "better");
}

TEST(Compare, AHigherAccuracyIsBetterAndALowerOneWorse) {
  const std::vector<double> none(10, 0.0);
  std::vector<double> nine(10, 1.0);
  nine[9] = 0;  // d: nine 1s and a 0: mean 0.9, sd sqrt(0.1), stderr 0.1, z 9
  auto cs = compare({model("s", none, 1, {1, 1}), model("s", nine, 1, {1, 1})});
  EXPECT_NEAR(cs[1].stderr_value, 0.1, 1e-12);
  EXPECT_NEAR(cs[1].z, 9.0, 1e-9);
  EXPECT_EQ(cs[1].mark, "better");
  cs = compare({model("s", nine, 1, {1, 1}), model("s", none, 1, {1, 1})});
  EXPECT_EQ(cs[1].mark, "worse");
}

TEST(Compare, DifferentExamplesAreComparedUnpaired) {
  const auto cs = compare({model("a", {1, 0, 1, 1}, 2.0, {2, 2}), model("b", {1, 1, 1, 0}, 1.0, {1, 1})});
  EXPECT_FALSE(cs[1].paired);
  // acc 0.75 both: stderr sqrt(0.75 * 0.25 / 4) each, combined sqrt(2) times that.
  EXPECT_NEAR(cs[1].stderr_value, std::sqrt(2 * 0.75 * 0.25 / 4), 1e-15);
  EXPECT_NEAR(cs[0].stderr_value, std::sqrt(0.5), 1e-15);  // 0.5 and 0.5 combined
  EXPECT_EQ(cs[0].mark, "");  // -1 / 0.707: not significant
}

TEST(Compare, OneModelHasNothingToCompare) { EXPECT_TRUE(compare({model("s", {1, 0}, 1, {1, 1})}).empty()); }

TEST(Perplexity, PerWindowExpansionsAverageToTheMetrics) {
  const PerplexityResult r = summarize({{8.0, 4, 10}, {4.0, 4, 12}, {6.0, 4, 8}});
  ASSERT_EQ(r.window_perplexity.size(), 3u);
  double ppl = 0, bpb = 0;
  for (size_t w = 0; w < 3; ++w) {
    ppl += r.window_perplexity[w] / 3;
    bpb += r.window_bits_per_byte[w] / 3;
  }
  EXPECT_NEAR(ppl, r.perplexity, 1e-12 * r.perplexity);
  EXPECT_NEAR(bpb, r.bits_per_byte, 1e-12);
  EXPECT_EQ(r.window_loss, (std::vector<double>{2.0, 1.0, 1.5}));
  // The expansion's spread is the delta method's: stderr(window_perplexity) = perplexity * stderr(loss).
  EXPECT_NEAR(r.window_perplexity[0] - r.window_perplexity[1], r.perplexity * 1.0, 1e-12 * r.perplexity);
}

}  // namespace
}  // namespace tessera::eval
