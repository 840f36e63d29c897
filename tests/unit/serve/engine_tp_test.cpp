// Tensor-parallel serving with two in-process ranks (threads): each rank holds its shard of the
// same model (initialisation draws the full tensors and slices them), runs the same engine on the
// same requests, and generates what one rank alone generates; the two ranks agree bit for bit.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "parallel/in_process.h"
#include "parallel/tp_group.h"
#include "serve/engine.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/serve/serve_test_support.h"

namespace tessera::serve {
namespace {

using testing::byte_tokenizer;

ModelConfig small(const std::string& family) {
  return testing_support::tiny_model(family, {.seq_len = 48, .vocab_size = 300});
}

std::vector<Request> requests() {
  std::vector<Request> rs;
  std::mt19937_64 rng(5);
  for (int len : {4, 11, 2, 17}) {
    Request r;
    for (int i = 0; i < len; ++i) r.prompt.push_back(static_cast<int32_t>(rng() % 256));
    r.params.max_tokens = 10;
    r.params.logprobs = 0;
    rs.push_back(r);
  }
  return rs;
}

std::vector<Completion> serve_with(core::TpGroup* tp, const std::string& family, const datasets::Tokenizer& tok,
                                   WeightPrecision weights) {
  core::Transformer model(small(family), core::DType::f32, tp);
  model.init_weights(31);
  Engine engine(model, tok, {.block_size = 4, .weights = weights, .scheduler = {.max_step_tokens = 8}});
  return engine.generate(requests());
}

class EngineTp : public ::testing::TestWithParam<std::string> {};

// tolerance: of the log-probabilities against one rank's. With bf16 and int8 weights each rank
// converts its own shard (int8: the row-parallel shards get scales of their own), so the two
// layouts round differently.
void expect_two_ranks_match_one(const std::string& family, WeightPrecision weights, double tolerance) {
  const auto tok = byte_tokenizer();
  const auto solo = serve_with(nullptr, family, tok, weights);
  auto comms = parallel::make_in_process_group(2, "tp");
  std::vector<std::vector<Completion>> ranks(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      try {
        parallel::CommTpGroup tp(*comms[static_cast<size_t>(r)]);
        ranks[static_cast<size_t>(r)] = serve_with(&tp, family, tok, weights);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  ASSERT_EQ(ranks[0].size(), solo.size());
  for (size_t i = 0; i < solo.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_EQ(ranks[0][i].tokens, solo[i].tokens);
    EXPECT_EQ(ranks[1][i].tokens, ranks[0][i].tokens);
    ASSERT_EQ(ranks[0][i].logprobs.size(), solo[i].logprobs.size());
    for (size_t t = 0; t < solo[i].logprobs.size(); ++t) {
      // The row-parallel sums add the ranks' partial products in another order: close, not equal.
      EXPECT_NEAR(ranks[0][i].logprobs[t].logprob, solo[i].logprobs[t].logprob, tolerance);
      EXPECT_EQ(ranks[1][i].logprobs[t].logprob, ranks[0][i].logprobs[t].logprob);
    }
  }
}

TEST_P(EngineTp, TwoRanksGenerateWhatOneRankGenerates) {
  expect_two_ranks_match_one(GetParam(), WeightPrecision::f32, 1e-4);
}

TEST_P(EngineTp, TwoRanksGenerateWhatOneRankGeneratesWithBf16AndInt8Weights) {
  expect_two_ranks_match_one(GetParam(), WeightPrecision::bf16, 1e-2);
  expect_two_ranks_match_one(GetParam(), WeightPrecision::int8, 5e-2);
}

INSTANTIATE_TEST_SUITE_P(Families, EngineTp, ::testing::Values("gpt2", "llama"));

}  // namespace
}  // namespace tessera::serve
