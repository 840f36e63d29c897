// Multiple-choice scoring: a choice's log-likelihood against one computed by hand from the
// model's logits, predictions against hand-computed likelihoods, acc and acc_norm with their
// standard errors on constructed items, cropping, and task files with errors naming the line.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/multiple_choice.h"
#include "eval/task_file.h"
#include "parallel/in_process.h"
#include "tests/unit/eval/eval_fixture.h"

namespace tessera::eval {
namespace {

using testing_support::error_of;

std::vector<int32_t> ids(const datasets::Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> out;
  for (const auto id : tok.encode(text)) out.push_back(static_cast<int32_t>(id));
  return out;
}

McTask constructed_task() {
  return {"t", "t.jsonl",
          {{"Validation data must never", {" leak into training.", " be eaten by cats", " x"}, 0},
           {"Every gradient that explodes", {" was once small.", " is a dog"}, 1},
           {"", {" Shards are files of tokens.", " Tokens are shards."}, 0}}};
}

TEST(MultipleChoice, ChoiceLogLikelihoodsMatchThoseComputedFromTheLogits) {
  core::Transformer model(eval_testing::tiny_config());
  model.init_weights(3);
  const auto tok = eval_testing::tokenizer();
  const McTask task = constructed_task();
  auto dp = std::move(parallel::make_in_process_group(1, "dp").front());
  McOptions o;
  o.batch_size = 4;
  const McResult r = score_task(model, *dp, tok, task, o);
  ASSERT_EQ(r.n, 3u);
  for (size_t i = 0; i < task.items.size(); ++i) {
    const McItem& item = task.items[i];
    std::vector<double> by_hand;
    for (const std::string& choice : item.choices) {
      std::vector<int32_t> seq = item.context.empty() ? std::vector<int32_t>{static_cast<int32_t>(tok.eot_id())}
                                                      : ids(tok, item.context);
      const size_t n = ids(tok, choice).size();
      for (int32_t id : ids(tok, choice)) seq.push_back(id);
      if (seq.size() > 17) seq.erase(seq.begin(), seq.end() - 17);  // crop to seq_len + 1
      const std::vector<double> lp = eval_testing::token_log_probs(model, seq);
      double sum = 0;
      for (size_t t = lp.size() - std::min(n, lp.size()); t < lp.size(); ++t) sum += lp[t];
      by_hand.push_back(sum);
    }
    ASSERT_EQ(r.items[i].log_likelihoods.size(), by_hand.size());
    for (size_t c = 0; c < by_hand.size(); ++c) {
      EXPECT_NEAR(r.items[i].log_likelihoods[c], by_hand[c], 1e-5 * std::abs(by_hand[c])) << i << " " << c;
    }
    const size_t expected = static_cast<size_t>(std::max_element(by_hand.begin(), by_hand.end()) - by_hand.begin());
    EXPECT_EQ(r.items[i].prediction, expected);
    EXPECT_EQ(r.items[i].label, item.label);
  }
}

TEST(MultipleChoice, AccAndAccNormOnConstructedLikelihoods) {
  // Item 0: " a" (2 bytes) at -2 beats " bbbbbb" (7 bytes) at -3.5, but per byte -1 loses to -0.5.
  // Item 1: both metrics pick choice 1. Item 2: both pick choice 0, the label is 1.
  const std::vector<McItem> items = {{"c", {" a", " bbbbbb"}, 1}, {"c", {"xx", "yy"}, 1}, {"c", {"p", "q"}, 1}};
  const McResult r = summarize(items, {{-2.0, -3.5}, {-5.0, -1.0}, {-1.0, -2.0}});
  EXPECT_EQ(r.items[0].prediction, 0u);
  EXPECT_EQ(r.items[0].prediction_norm, 1u);
  EXPECT_DOUBLE_EQ(r.acc, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.acc_norm, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.acc_stderr, std::sqrt(1.0 / 3 * 2.0 / 3 / 3));
  EXPECT_DOUBLE_EQ(r.acc_norm_stderr, std::sqrt(2.0 / 3 * 1.0 / 3 / 3));
}

TEST(MultipleChoice, AUniformModelForcesTheAnswers) {
  // All weights zero: every token has probability 1/V, a choice of k tokens log-likelihood
  // -k ln V. acc picks the choice of fewest tokens, acc_norm the one of most bytes per token.
  core::Transformer model(eval_testing::tiny_config());
  const auto tok = eval_testing::tokenizer();
  const std::string few = " data", many = " z q x j";
  ASSERT_LT(ids(tok, few).size(), ids(tok, many).size());
  const McTask task{"forced", "forced.jsonl", {{"Validation", {many, few}, 1}, {"Shards", {few, many}, 0}}};
  auto dp = std::move(parallel::make_in_process_group(1, "dp").front());
  const McResult r = score_task(model, *dp, tok, task, {});
  EXPECT_DOUBLE_EQ(r.acc, 1.0);
  EXPECT_DOUBLE_EQ(r.acc_stderr, 0.0);
  const double per_byte_few = static_cast<double>(ids(tok, few).size()) / static_cast<double>(few.size());
  const double per_byte_many = static_cast<double>(ids(tok, many).size()) / static_cast<double>(many.size());
  EXPECT_DOUBLE_EQ(r.acc_norm, per_byte_few < per_byte_many ? 1.0 : 0.0);
  EXPECT_NEAR(r.items[0].log_likelihoods[1], -static_cast<double>(ids(tok, few).size()) * std::log(320.0), 1e-9);
}

TEST(MultipleChoice, LongSequencesAreCroppedFromTheLeft) {
  const auto tok = eval_testing::tokenizer();
  std::string context;
  for (int i = 0; i < 20; ++i) context += " tokens and shards";
  const McItem item{context, {" never leak"}, 0};
  const Request r = choice_request(item, 0, tok, 16);
  ASSERT_EQ(r.tokens.size(), 17u);
  const std::vector<int32_t> choice = ids(tok, " never leak");
  EXPECT_EQ(r.scored, choice.size());
  EXPECT_TRUE(std::equal(choice.begin(), choice.end(), r.tokens.end() - static_cast<std::ptrdiff_t>(choice.size())));
}

TEST(TaskFile, ParsesItemsAndSkipsBlankLines) {
  const auto items = parse_items("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"label\": 1}\n\n"
                                 "{\"context\": \"\", \"choices\": [\"d\"], \"label\": 0}\n", "x.jsonl");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].choices[1], " c");
  EXPECT_EQ(items[0].label, 1u);
  EXPECT_EQ(parse_items(to_jsonl(items), "again").size(), 2u);
}

TEST(TaskFile, BadLinesNameTheFileAndLine) {
  const std::string good = "{\"context\": \"a\", \"choices\": [\" b\"], \"label\": 0}\n";
  EXPECT_NE(error_of([&] { parse_items(good + "\n{not json\n", "tasks.jsonl"); }).find("tasks.jsonl:3: not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_items(good + "{\"context\": \"a\", \"choices\": [\" b\"], \"label\": 1}", "t.jsonl"); })
                .find("t.jsonl:2: label 1 is out of range for 1 choices"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_items("{\"context\": \"a\", \"choices\": [], \"label\": 0}", "t.jsonl"); })
                .find("t.jsonl:1: \"choices\" must be a non-empty array"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_items("{\"choices\": [\"x\"], \"label\": 0}", "t.jsonl"); })
                .find("t.jsonl:1: the item has no \"context\""), std::string::npos);
  EXPECT_NE(error_of([&] { load_task("/nonexistent/tasks.jsonl"); }).find("/nonexistent/tasks.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace tessera::eval
