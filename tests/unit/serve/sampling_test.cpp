// Sampling: the candidate distributions of top-k, top-p, min-p and temperature against values
// computed by hand, penalties, greedy, seeds, log-probabilities, and a padded vocabulary whose
// extra ids are never drawn.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "serve/sampling.h"

namespace tessera::serve {
namespace {

// Logits whose softmax is 0.5, 0.3, 0.15, 0.05.
const std::vector<float> kLogits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};

std::map<int32_t, double> distribution(const SamplingParams& p, const std::vector<float>& logits = kLogits,
                                       int64_t limit = 4) {
  std::map<int32_t, double> m;
  for (const auto& c : Sampler(p, limit, {}).candidates(logits.data(), static_cast<int64_t>(logits.size()))) {
    m[c.id] = c.logprob;
  }
  return m;
}

void expect_distribution(const std::map<int32_t, double>& got, const std::map<int32_t, double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [id, p] : want) {
    ASSERT_TRUE(got.count(id)) << "id " << id;
    EXPECT_NEAR(got.at(id), p, 1e-6) << "id " << id;
  }
}

SamplingParams sampled(double temperature = 1.0) {
  SamplingParams p;
  p.temperature = temperature;
  return p;
}

TEST(Sampling, TopKKeepsTheKMostLikelyRenormalised) {
  SamplingParams p = sampled();
  p.top_k = 2;
  expect_distribution(distribution(p), {{0, 0.625}, {1, 0.375}});
}

TEST(Sampling, TopPKeepsTheShortestHeadReachingP) {
  SamplingParams p = sampled();
  p.top_p = 0.7;  // 0.5 < 0.7 <= 0.8
  expect_distribution(distribution(p), {{0, 0.625}, {1, 0.375}});
  p.top_p = 0.85;  // 0.8 < 0.85 <= 0.95
  expect_distribution(distribution(p), {{0, 0.5 / 0.95}, {1, 0.3 / 0.95}, {2, 0.15 / 0.95}});
  p.top_p = 0.1;  // the most likely alone
  expect_distribution(distribution(p), {{0, 1.0}});
}

TEST(Sampling, MinPDropsTokensBelowAFractionOfTheMostLikely) {
  SamplingParams p = sampled();
  p.min_p = 0.2;  // floor 0.1: drops 0.05
  expect_distribution(distribution(p), {{0, 0.5 / 0.95}, {1, 0.3 / 0.95}, {2, 0.15 / 0.95}});
  p.min_p = 0.5;  // floor 0.25: keeps 0.5 and 0.3
  expect_distribution(distribution(p), {{0, 0.625}, {1, 0.375}});
}

TEST(Sampling, TemperatureFlattensTheDistribution) {
  const double s = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.15) + std::sqrt(0.05);
  expect_distribution(distribution(sampled(2.0)), {{0, std::sqrt(0.5) / s},
                                                   {1, std::sqrt(0.3) / s},
                                                   {2, std::sqrt(0.15) / s},
                                                   {3, std::sqrt(0.05) / s}});
}

TEST(Sampling, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p;  // greedy
  p.repetition_penalty = 2.0;
  const std::vector<float> logits = {2.0f, 1.9f, -1.0f, 1.5f};
  // Prompt holds 0: 2.0 -> 1.0, so 1 (1.9) wins.
  EXPECT_EQ(Sampler(p, 4, {0}).sample(logits.data(), 4).id, 1);
  // Prompt holds 0 and 1: 1.0 and 0.95; 3 (1.5) wins.
  EXPECT_EQ(Sampler(p, 4, {0, 1}).sample(logits.data(), 4).id, 3);
  // A negative logit is multiplied: -1 -> -2, with temperature 1 its probability falls.
  p.temperature = 1.0;
  const auto before = Sampler(p, 4, {}).candidates(logits.data(), 4);
  const auto after = Sampler(p, 4, {2}).candidates(logits.data(), 4);
  auto prob = [](const std::vector<TokenLogprob>& c, int32_t id) {
    for (const auto& x : c) if (x.id == id) return x.logprob;
    return -1.0;
  };
  const double z0 = std::exp(2.0) + std::exp(1.9) + std::exp(-1.0) + std::exp(1.5);
  const double z1 = std::exp(2.0) + std::exp(1.9) + std::exp(-2.0) + std::exp(1.5);
  EXPECT_NEAR(prob(before, 2), std::exp(-1.0) / z0, 1e-9);
  EXPECT_NEAR(prob(after, 2), std::exp(-2.0) / z1, 1e-9);
}

TEST(Sampling, PresenceAndFrequencyPenaltiesGrowWithTheOutput) {
  SamplingParams p;  // greedy
  p.presence_penalty = 0.2;
  p.frequency_penalty = 0.2;
  p.max_tokens = 3;
  const std::vector<float> logits = {3.0f, 2.5f, 0.0f, 0.0f};
  Sampler s(p, 4, {});
  // 3 -> 3 - 0.2 - 0.2 = 2.6 after one (still first), 3 - 0.2 - 0.4 = 2.4 after two (now second).
  EXPECT_EQ(s.sample(logits.data(), 4).id, 0);
  EXPECT_EQ(s.sample(logits.data(), 4).id, 0);
  EXPECT_EQ(s.sample(logits.data(), 4).id, 1);
}

TEST(Sampling, SameSeedSameTokensOtherSeedOtherTokens) {
  std::vector<float> logits(64);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(std::sin(double(i)));
  auto draw = [&](uint64_t seed) {
    SamplingParams p = sampled();
    p.seed = seed;
    Sampler s(p, 64, {});
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i) ids.push_back(s.sample(logits.data(), 64).id);
    return ids;
  };
  EXPECT_EQ(draw(5), draw(5));
  EXPECT_NE(draw(5), draw(6));
}

TEST(Sampling, DrawsFollowTheCandidateDistribution) {
  SamplingParams p = sampled();
  p.top_k = 2;
  Sampler s(p, 4, {});
  int zeros = 0, n = 4000;
  for (int i = 0; i < n; ++i) {
    const int32_t id = s.sample(kLogits.data(), 4).id;
    ASSERT_TRUE(id == 0 || id == 1);
    zeros += id == 0;
  }
  EXPECT_NEAR(double(zeros) / n, 0.625, 0.03);
}

TEST(Sampling, PaddedVocabularyIsNeverSampled) {
  // Model vocabulary 8, tokenizer 5: ids 5..7 hold the largest logits and must never come out.
  const std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.0f, -0.1f, 9.0f, 8.0f, 7.0f};
  SamplingParams greedy;
  EXPECT_EQ(Sampler(greedy, 5, {}).sample(logits.data(), 8).id, 2);
  SamplingParams hot = sampled(100.0);
  hot.logprobs = 8;
  Sampler s(hot, 5, {});
  for (int i = 0; i < 500; ++i) {
    const SampledToken t = s.sample(logits.data(), 8);
    ASSERT_LT(t.id, 5);
    ASSERT_EQ(t.top.size(), 5u);  // alternatives from the tokenizer's ids alone
    for (const auto& a : t.top) ASSERT_LT(a.id, 5);
  }
}

TEST(Sampling, LogprobsAreTheModelsLogSoftmax) {
  SamplingParams p;
  p.logprobs = 2;
  p.temperature = 0.0;
  p.repetition_penalty = 3.0;  // penalties change the choice, not the reported log-probabilities
  const SampledToken t = Sampler(p, 4, {0}).sample(kLogits.data(), 4);
  EXPECT_EQ(t.id, 1);  // 0's logit log(0.5) < 0 is multiplied by 3: log(0.125) < log(0.3)
  EXPECT_NEAR(t.logprob, std::log(0.3), 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].id, 0);
  EXPECT_NEAR(t.top[0].logprob, std::log(0.5), 1e-6);
  EXPECT_EQ(t.top[1].id, 1);
}

TEST(Sampling, BadParametersAreErrors) {
  auto bad = [](auto change) {
    SamplingParams p;
    change(p);
    EXPECT_THROW(p.validate(), Error);
  };
  bad([](SamplingParams& p) { p.max_tokens = 0; });
  bad([](SamplingParams& p) { p.temperature = -0.5; });
  bad([](SamplingParams& p) { p.top_k = -1; });
  bad([](SamplingParams& p) { p.top_p = 0.0; });
  bad([](SamplingParams& p) { p.min_p = 1.5; });
  bad([](SamplingParams& p) { p.repetition_penalty = 0.0; });
  bad([](SamplingParams& p) { p.stop = {""}; });
  SamplingParams ok;
  EXPECT_NO_THROW(ok.validate());
}

}  // namespace
}  // namespace tessera::serve
