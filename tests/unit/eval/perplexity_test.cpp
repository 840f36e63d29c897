// Perplexity against log-likelihoods computed outside eval/, bits per byte, the standard error's
// closed form, a uniform model's perplexity, and identical results on one and two dp ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <thread>

#include "datasets/loader.h"
#include "eval/perplexity.h"
#include "eval/sharded.h"
#include "parallel/in_process.h"
#include "tests/unit/eval/eval_fixture.h"

namespace tessera::eval {
namespace {

using eval_testing::tiny_config;

std::unique_ptr<parallel::Communicator> solo() { return std::move(parallel::make_in_process_group(1, "dp").front()); }

TEST(Perplexity, EqualsTheExpOfTheMeanTokenCrossEntropy) {
  core::Transformer model(tiny_config());
  model.init_weights(11);
  const auto tok = eval_testing::tokenizer();
  const auto bytes = token_byte_counts(tok, model.config().vocab_size);
  PerplexityOptions o;
  o.batch_size = 3;
  o.max_windows = 7;
  auto dp = solo();
  const PerplexityResult r = perplexity(model, *dp, eval_testing::val_shards(), bytes, o);
  ASSERT_EQ(r.windows, 7u);

  datasets::LoaderOptions lo;
  lo.seq_len = 16;
  lo.shuffle = false;
  datasets::Loader loader(eval_testing::val_shards(), lo);
  double nll = 0, tokens = 0, scored_bytes = 0;
  std::vector<double> window_means;
  for (int w = 0; w < 7; ++w) {
    const datasets::Batch b = loader.next();
    std::vector<int32_t> seq = b.inputs;
    seq.push_back(b.targets.back());
    double window = 0;
    for (double lp : eval_testing::token_log_probs(model, seq)) window -= lp;
    for (size_t t = 1; t < seq.size(); ++t) {
      const auto id = static_cast<datasets::TokenId>(seq[t]);
      scored_bytes += id == tok.eot_id() ? 0.0 : static_cast<double>(tok.decode(std::vector{id}).size());
    }
    nll += window;
    tokens += 16;
    window_means.push_back(window / 16);
  }
  EXPECT_EQ(r.tokens, tokens);
  EXPECT_EQ(r.bytes, scored_bytes);
  EXPECT_NEAR(r.mean_loss, nll / tokens, 1e-6 * nll / tokens);
  EXPECT_NEAR(r.perplexity, std::exp(nll / tokens), 1e-6 * std::exp(nll / tokens));
  EXPECT_NEAR(r.bits_per_byte, nll / (std::numbers::ln2 * scored_bytes), 1e-6 * r.bits_per_byte);
  EXPECT_NEAR(r.bits_per_byte, r.mean_loss * r.tokens / (std::numbers::ln2 * r.bytes), 1e-12 * r.bits_per_byte);
  EXPECT_GT(r.mean_loss_stderr, 0.0);
  EXPECT_NEAR(r.perplexity_stderr, r.perplexity * r.mean_loss_stderr, 1e-12 * r.perplexity_stderr);
}

TEST(Perplexity, StandardErrorsFollowTheirClosedForm) {
  // Window means 2, 4, 6: sample standard deviation 2, stderr 2 / sqrt(3).
  const PerplexityResult r = summarize({{4, 2, 4}, {8, 2, 4}, {12, 2, 4}});
  EXPECT_EQ(r.windows, 3u);
  EXPECT_DOUBLE_EQ(r.mean_loss, 4.0);
  EXPECT_DOUBLE_EQ(r.mean_loss_stderr, 2.0 / std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(r.perplexity, std::exp(4.0));
  EXPECT_DOUBLE_EQ(r.perplexity_stderr, std::exp(4.0) * 2.0 / std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(r.bits_per_byte, 24.0 / (std::numbers::ln2 * 12.0));
  EXPECT_DOUBLE_EQ(r.bits_per_byte_stderr, 2.0 / std::sqrt(3.0) * 6.0 / (std::numbers::ln2 * 12.0));
}

TEST(Perplexity, AModelUniformOverTheVocabularyHasPerplexityV) {
  core::Transformer model(tiny_config());  // all weights zero: every logit 0
  auto dp = solo();
  const PerplexityResult r = perplexity(model, *dp, eval_testing::val_shards(),
                                        token_byte_counts(eval_testing::tokenizer(), 320), {});
  EXPECT_GT(r.windows, 2u);
  EXPECT_NEAR(r.perplexity, 320.0, 1e-9 * 320);
  EXPECT_NEAR(r.mean_loss_stderr, 0.0, 1e-12);
}

TEST(Perplexity, TwoDataParallelRanksGiveBitwiseTheSameResult) {
  const auto shards = eval_testing::val_shards();
  const auto bytes = token_byte_counts(eval_testing::tokenizer(), 320);
  PerplexityOptions o;
  o.batch_size = 2;
  o.max_windows = 9;  // 5 chunks: rank 0 scores 3, rank 1 scores 2
  core::Transformer one(tiny_config());
  one.init_weights(5);
  auto dp = solo();
  const PerplexityResult alone = perplexity(one, *dp, shards, bytes, o);
  auto group = parallel::make_in_process_group(2, "dp");
  PerplexityResult results[2];
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      core::Transformer model(tiny_config());
      model.init_weights(5);
      results[r] = perplexity(model, *group[static_cast<size_t>(r)], shards, bytes, o);
    });
  }
  for (auto& t : threads) t.join();
  for (const PerplexityResult& r : results) {
    EXPECT_EQ(r.windows, alone.windows);
    EXPECT_EQ(r.mean_loss, alone.mean_loss);
    EXPECT_EQ(r.mean_loss_stderr, alone.mean_loss_stderr);
    EXPECT_EQ(r.bits_per_byte, alone.bits_per_byte);
  }
}

}  // namespace
}  // namespace tessera::eval
