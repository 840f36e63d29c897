// Scoring through the serving forward (eval/serving_scorer.h): with f32 weights it gives the
// training forward's log-likelihoods; with int8 and bf16 weights close ones; and a request's score
// is bitwise the same alone or in a batch.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "eval/serving_scorer.h"

namespace tessera::eval {
namespace {

ModelConfig small() {
  ModelConfig c;
  c.family = Family::gpt2;
  c.n_layer = 2;
  c.d_model = 32;
  c.n_head = 4;
  c.seq_len = 24;
  c.vocab_size = 40;
  c.tie_embeddings = true;
  return c;
}

std::vector<Request> requests() {
  std::mt19937_64 rng(3);
  std::vector<Request> rs;
  for (size_t len : {25, 6, 13}) {
    Request r;
    for (size_t i = 0; i < len; ++i) r.tokens.push_back(static_cast<int32_t>(rng() % 40));
    r.scored = len - 1 - len / 3;
    rs.push_back(r);
  }
  return rs;
}

TEST(ServingScorer, MatchesTheTrainingForwardAndDoesNotDependOnTheBatch) {
  core::Transformer model(small());
  model.init_weights(5);
  const auto rs = requests();
  const std::vector<Score> ref = score(model, rs);
  for (serve::WeightPrecision w : {serve::WeightPrecision::f32, serve::WeightPrecision::bf16,
                                   serve::WeightPrecision::int8}) {
    SCOPED_TRACE(serve::weight_precision_name(w));
    ServingScorer scorer(model, w, rs.size());
    const std::vector<Score> got = scorer.score(rs);
    ASSERT_EQ(got.size(), ref.size());
    const double tol = w == serve::WeightPrecision::f32 ? 1e-4 : 5e-2;
    for (size_t i = 0; i < rs.size(); ++i) {
      EXPECT_NEAR(got[i].log_likelihood, ref[i].log_likelihood, tol * std::abs(ref[i].log_likelihood)) << i;
      EXPECT_EQ(scorer.score({rs[i]})[0].log_likelihood, got[i].log_likelihood) << "request " << i << " alone";
    }
  }
}

}  // namespace
}  // namespace tessera::eval
