// Generation tasks: the answer normalisation, exact match and token F1 against hand-computed
// values, the metrics' standard errors, task files told apart by their first item, malformed lines
// named by line, and outputs on a tiny model equal to the engine's own, whatever the batch.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/generation.h"
#include "eval/task_file.h"
#include "eval/text_match.h"
#include "parallel/in_process.h"
#include "serve/engine.h"
#include "tests/unit/eval/eval_fixture.h"
#include "tests/unit/test_support.h"

namespace tessera::eval {
namespace {

using testing_support::error_of;

TEST(TextMatch, NormalisationTrimsAndCollapsesWhitespaceOnly) {
  EXPECT_EQ(normalise_answer("  The\t cat \n\n sat.\r\n"), "The cat sat.");
  EXPECT_EQ(normalise_answer(" \t\n"), "");
  EXPECT_EQ(exact_match(" Paris\n", {"Rome", "Paris"}), 1.0);
  EXPECT_EQ(exact_match("paris", {"Paris"}), 0.0);  // case counts
  EXPECT_EQ(exact_match("Paris.", {"Paris"}), 0.0);  // punctuation counts
}

TEST(TextMatch, TokenF1MatchesHandComputedValues) {
  // "the cat sat" vs "the cat sat down": 3 common, P = 1, R = 3/4, F1 = 2 * 3/4 / (7/4) = 6/7.
  EXPECT_DOUBLE_EQ(token_f1("the cat sat", {"the cat sat down"}), 6.0 / 7.0);
  // Multiset overlap: "a a b" vs "a b b": one a, one b in common; P = R = 2/3.
  EXPECT_DOUBLE_EQ(token_f1("a a b", {"a b b"}), 2.0 / 3.0);
  // The best reference counts: "x y" vs "x" (P 1/2, R 1: 2/3) and "y z w" (P 1/2, R 1/3: 2/5).
  EXPECT_DOUBLE_EQ(token_f1(" x  y ", {"y z w", "x"}), 2.0 / 3.0);
  EXPECT_EQ(token_f1("q", {"r s"}), 0.0);
  EXPECT_EQ(token_f1(" ", {""}), 1.0);
  EXPECT_EQ(token_f1("", {"a"}), 0.0);
}

TEST(Generation, MetricsAndStandardErrorsFromOutputs) {
  const std::vector<GenItem> items = {{"p", {"a b"}, 0, {}}, {"p", {"a b c d"}, 0, {}}, {"p", {"z"}, 0, {}},
                                      {"p", {"x", "y"}, 0, {}}};
  std::vector<GenItemResult> outputs(4);
  outputs[0].output = " a  b";    // exact: em 1, f1 1
  outputs[1].output = "a b c";    // f1 = 2 * 1 * 3/4 / (7/4) = 6/7
  outputs[2].output = "q";        // 0, 0
  outputs[3].output = "y";        // exact against the second reference
  const GenResult r = summarize_generation(items, outputs);
  EXPECT_EQ(r.n, 4u);
  EXPECT_DOUBLE_EQ(r.exact_match, 0.5);
  EXPECT_DOUBLE_EQ(r.exact_match_stderr, std::sqrt(0.5 * 0.5 / 4));
  const std::vector<double> f1 = {1, 6.0 / 7.0, 0, 1};
  const double mean = (f1[0] + f1[1] + f1[2] + f1[3]) / 4;
  double ss = 0;
  for (double v : f1) ss += (v - mean) * (v - mean);
  EXPECT_DOUBLE_EQ(r.f1, mean);
  EXPECT_NEAR(r.f1_stderr, std::sqrt(ss / 3) / 2, 1e-15);
  EXPECT_EQ(r.items[3].references, items[3].references);
  EXPECT_EQ(r.items[1].f1, 6.0 / 7.0);
}

TEST(GenerationTaskFile, TheFirstItemDecidesTheKind) {
  testing_support::TempDir dir;
  const Task gen = load_any_task(dir.write("g.jsonl", "\n{\"prompt\": \"Q\", \"references\": [\"a\", \"b\"], "
                                                      "\"max_tokens\": 3, \"stop\": \"\\n\"}\n"));
  ASSERT_TRUE(std::holds_alternative<GenTask>(gen));
  const GenItem& item = std::get<GenTask>(gen).items.at(0);
  EXPECT_EQ(item.prompt, "Q");
  EXPECT_EQ(item.references, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(item.max_tokens, 3);
  EXPECT_EQ(item.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(task_name(gen), "g");
  const Task mc = load_any_task(dir.write("m.jsonl", "{\"context\": \"a\", \"choices\": [\" b\"], \"label\": 0}\n"));
  EXPECT_TRUE(std::holds_alternative<McTask>(mc));
}

TEST(GenerationTaskFile, MalformedLinesAreNamedByLine) {
  const std::string good = "{\"prompt\": \"a\", \"reference\": \"b\"}\n";
  const auto error = [&](const std::string& line) { return error_of([&] { parse_gen_items(good + "\n" + line, "gen.jsonl"); }); };
  // Each message starts with the file and line (the source location of the check follows).
  const auto starts = [](const std::string& text, const std::string& head) { return text.rfind(head, 0) == 0; };
  EXPECT_PRED2(starts, error("{\"reference\": \"b\"}"), "gen.jsonl:3: the item has no \"prompt\"");
  EXPECT_PRED2(starts, error("{\"prompt\": \"a\", \"reference\": 4}"), "gen.jsonl:3: \"reference\" must be a string");
  EXPECT_PRED2(starts, error("{\"prompt\": \"a\"}"), "gen.jsonl:3: the item needs \"reference\"");
  EXPECT_PRED2(starts, error("{\"prompt\": \"a\", \"references\": []}"),
               "gen.jsonl:3: \"references\" must be a non-empty array of strings");
  EXPECT_PRED2(starts, error("{\"prompt\": \"a\", \"reference\": \"b\", \"max_tokens\": 0}"),
               "gen.jsonl:3: \"max_tokens\" must be an integer >= 1");
  EXPECT_NE(error("{\"prompt\": 1").find("gen.jsonl:3: not valid JSON"), std::string::npos);
}

TEST(Generation, OutputsEqualTheEnginesOwnAtEveryBatchSize) {
  const datasets::Tokenizer tok = eval_testing::tokenizer();
  core::Transformer model(eval_testing::tiny_config(), core::DType::f32);
  model.init_weights(7);
  GenTask task{"t", "t.jsonl", {}};
  for (const char* p : {"Validation data", "Shards are", "", "A checkpoint", "The"}) task.items.push_back({p, {"x"}, 0, {}});
  task.items[1].max_tokens = 3;
  auto dp = std::move(parallel::make_in_process_group(1, "dp").front());
  GenOptions o;
  o.max_tokens = 5;
  o.batch_size = 1;
  const GenResult one = run_generation(model, *dp, tok, task, o);
  o.batch_size = 4;
  const GenResult four = run_generation(model, *dp, tok, task, o);
  ASSERT_EQ(one.items.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(one.items[i].output, four.items[i].output) << i;
    serve::Engine engine(model, tok);
    serve::Request r;
    for (auto id : tok.encode(task.items[i].prompt)) r.prompt.push_back(static_cast<int32_t>(id));
    if (r.prompt.empty()) r.prompt.push_back(static_cast<int32_t>(tok.eot_id()));
    r.params.max_tokens = i == 1 ? 3 : 5;
    const serve::Completion c = engine.generate({r}).front();
    EXPECT_EQ(one.items[i].output, c.text) << i;
    EXPECT_EQ(one.items[i].tokens, static_cast<int64_t>(c.tokens.size())) << i;
  }
  // Its own outputs as references: every item matches exactly.
  for (size_t i = 0; i < 5; ++i) task.items[i].references = {one.items[i].output};
  const GenResult self = run_generation(model, *dp, tok, task, o);
  EXPECT_EQ(self.exact_match, 1.0);
  EXPECT_EQ(self.f1, 1.0);
  EXPECT_EQ(self.exact_match_stderr, 0.0);
}

}  // namespace
}  // namespace tessera::eval
