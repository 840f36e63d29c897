// The engine end to end on small random models and a byte-level tokenizer (257 tokens; the models'
// vocabulary of 300 is padded past it): batched generation equals one-by-one generation token for
// token with chunked prefill and after preemptions, seeded sampling does not depend on the batch,
// log-probabilities are bitwise the same alone and in a batch, prompt log-probabilities equal the
// training forward's, and context limits are enforced.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "core/error.h"
#include "serve/engine.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/serve/serve_test_support.h"

namespace tessera::serve {
namespace {

using testing::byte_tokenizer;

ModelConfig small(const std::string& family) {
  return testing_support::tiny_model(family, {.seq_len = 64, .vocab_size = 300});
}

std::vector<Request> mixed_requests(double temperature, int64_t logprobs = -1) {
  std::vector<Request> rs;
  std::mt19937_64 rng(17);
  for (int len : {3, 20, 7, 1, 13, 9}) {
    Request r;
    for (int i = 0; i < len; ++i) r.prompt.push_back(static_cast<int32_t>(rng() % 256));
    r.params.max_tokens = 12;
    r.params.temperature = temperature;
    r.params.seed = static_cast<uint64_t>(len);
    r.params.logprobs = logprobs;
    rs.push_back(r);
  }
  return rs;
}

// Each request alone, in an engine of its own with room to spare.
std::vector<Completion> one_by_one(core::Transformer& model, const datasets::Tokenizer& tok,
                                   const std::vector<Request>& rs, WeightPrecision weights = WeightPrecision::f32) {
  std::vector<Completion> out;
  for (const auto& r : rs) {
    Engine e(model, tok, {.kv_cache_bytes = 1 << 20, .block_size = 4, .weights = weights});
    out.push_back(e.generate({r})[0]);
  }
  return out;
}

struct Batched {
  std::vector<Completion> completions;
  int64_t preempted = 0, steps = 0, max_running = 0, shared = 0;
};

// All requests in one engine: a step budget of 8 tokens (prompts in chunks) and a KV cache of
// `blocks` blocks of 4 tokens.
Batched together(core::Transformer& model, const datasets::Tokenizer& tok, const std::vector<Request>& rs,
                 int64_t blocks, WeightPrecision weights = WeightPrecision::f32) {
  const KvCacheShape shape = kv_cache_shape(model, 4, default_kv_dtype(weights));
  Engine e(model, tok, {.kv_cache_bytes = blocks * shape.block_bytes(), .block_size = 4, .weights = weights,
                        .scheduler = {.max_step_tokens = 8}});
  Batched b;
  b.completions.resize(rs.size());
  for (const auto& r : rs) e.add(r);  // ids 0, 1, ... in order
  while (!e.idle()) {
    for (auto& o : e.step()) {
      Completion& c = b.completions[static_cast<size_t>(o.id)];
      c.tokens.insert(c.tokens.end(), o.tokens.begin(), o.tokens.end());
      c.text += o.text;
      c.logprobs.insert(c.logprobs.end(), o.logprobs.begin(), o.logprobs.end());
      if (o.finish != FinishReason::none) c.finish = o.finish;
    }
    b.preempted += e.last_step().preempted;
    b.shared += e.last_step().shared_tokens;
    b.max_running = std::max(b.max_running, e.last_step().running);
    ++b.steps;
  }
  return b;
}

class EngineFamilies : public ::testing::TestWithParam<std::string> {};

// Every request of a batch (chunked prompts, a cache tight enough to preempt) generates, token for
// token and log-probability for log-probability, what it generates alone.
void expect_batched_equals_alone(const std::string& family, WeightPrecision weights) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small(family));
  model.init_weights(21);
  const auto rs = mixed_requests(0.0, 3);
  const auto alone = one_by_one(model, tok, rs, weights);
  const Batched roomy = together(model, tok, rs, 256, weights);
  const Batched tight = together(model, tok, rs, 10, weights);  // 40 tokens for six sequences of up to 31
  EXPECT_EQ(roomy.preempted, 0);
  EXPECT_GT(tight.preempted, 0) << "the tiny KV cache should force preemptions";
  EXPECT_GT(roomy.max_running, 1);
  int64_t total = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_EQ(roomy.completions[i].tokens, alone[i].tokens);
    EXPECT_EQ(tight.completions[i].tokens, alone[i].tokens);
    EXPECT_EQ(roomy.completions[i].text, alone[i].text);
    EXPECT_NE(alone[i].finish, FinishReason::none);
    // Log-probabilities come from the logits: bitwise equal means the logits were.
    ASSERT_EQ(tight.completions[i].logprobs.size(), alone[i].logprobs.size());
    for (size_t t = 0; t < alone[i].logprobs.size(); ++t) {
      EXPECT_EQ(tight.completions[i].logprobs[t].logprob, alone[i].logprobs[t].logprob);
      EXPECT_EQ(roomy.completions[i].logprobs[t].logprob, alone[i].logprobs[t].logprob);
    }
    total += static_cast<int64_t>(alone[i].tokens.size());
  }
  EXPECT_GT(total, 24) << "the requests should generate more than a token or two each";
}

TEST_P(EngineFamilies, BatchedGreedyEqualsOneByOneWithChunkingAndPreemption) {
  expect_batched_equals_alone(GetParam(), WeightPrecision::f32);
}

TEST_P(EngineFamilies, Bf16AndInt8WeightsBatchedGreedyEqualsOneByOne) {
  for (WeightPrecision w : {WeightPrecision::bf16, WeightPrecision::int8}) {
    SCOPED_TRACE(weight_precision_name(w));
    expect_batched_equals_alone(GetParam(), w);
  }
}

TEST_P(EngineFamilies, SeededSamplingDoesNotDependOnTheBatch) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small(GetParam()));
  model.init_weights(22);
  const auto rs = mixed_requests(1.0);
  const auto alone = one_by_one(model, tok, rs);
  const Batched tight = together(model, tok, rs, 10);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(tight.completions[i].tokens, alone[i].tokens) << "request " << i;
}

INSTANTIATE_TEST_SUITE_P(Families, EngineFamilies, ::testing::Values("gpt2", "llama"));

TEST_P(EngineFamilies, SharedPromptPrefixesChangeNoOutput) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small(GetParam()));
  model.init_weights(25);
  std::vector<Request> rs = mixed_requests(0.0, 2);
  const std::vector<int32_t> system = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130};
  for (auto& r : rs) r.prompt.insert(r.prompt.begin(), system.begin(), system.end());
  const auto alone = one_by_one(model, tok, rs);
  const Batched shared = together(model, tok, rs, 256);
  EXPECT_GE(shared.shared, 5 * 12) << "the later requests should take the 12 tokens of whole blocks in common";
  const Batched tight = together(model, tok, rs, 12);  // sharing and preemption together
  EXPECT_GT(tight.preempted, 0);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(shared.completions[i].tokens, alone[i].tokens) << "request " << i;
    EXPECT_EQ(tight.completions[i].tokens, alone[i].tokens) << "request " << i;
    for (size_t t = 0; t < alone[i].logprobs.size(); ++t) {
      EXPECT_EQ(shared.completions[i].logprobs[t].logprob, alone[i].logprobs[t].logprob);
    }
  }
}

// With an f32 KV cache the engine's prompt log-probabilities are the training forward's; a bf16
// cache rounds keys and values, and stays within 2e-2 of them.
TEST(Engine, PromptLogprobsEqualTheTrainingForward) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small("llama"));
  model.init_weights(23);
  Request r;
  r.prompt = {5, 80, 200, 13, 13, 99, 250, 1, 42, 7, 64};
  r.params.max_tokens = 1;
  r.params.prompt_logprobs = true;
  const auto T = static_cast<int64_t>(r.prompt.size());
  core::Tensor input = core::Tensor::empty({1, T}, core::DType::i32);
  std::copy(r.prompt.begin(), r.prompt.end(), input.data<int32_t>());
  model.forward(input, core::Tensor(), {.batch_invariant = true});
  for (const auto& [kv, tolerance] : {std::pair{core::DType::f32, 1e-5}, std::pair{core::DType::bf16, 2e-2}}) {
    SCOPED_TRACE(std::string(core::dtype_name(kv)));
    // The prompt in 3 chunks.
    Engine e(model, tok, {.block_size = 4, .kv_dtype = kv, .scheduler = {.max_step_tokens = 4}});
    const Completion c = e.generate({r})[0];
    ASSERT_EQ(c.prompt_logprobs.size(), r.prompt.size() - 1);
    for (int64_t t = 0; t + 1 < T; ++t) {
      const auto lp = log_softmax(model.logits().data<float>() + t * 300, 257);
      EXPECT_EQ(c.prompt_logprobs[t].id, r.prompt[t + 1]);
      EXPECT_NEAR(c.prompt_logprobs[t].logprob, lp[r.prompt[t + 1]], tolerance) << "token " << t + 1;
    }
  }
}

TEST(Engine, ContextLimits) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small("gpt2"));
  model.init_weights(24);
  Engine e(model, tok);
  Request too_long;
  too_long.prompt.assign(65, 1);
  EXPECT_THROW(e.add(too_long), Error);
  Request bad_id;
  bad_id.prompt = {257};  // the padding past the tokenizer
  EXPECT_THROW(e.add(bad_id), Error);
  Request near_end;
  near_end.prompt.assign(62, 1);
  near_end.params.max_tokens = 10;
  const Completion c = e.generate({near_end})[0];
  // Positions 62 and 63 are fed: three tokens at most (the third can not be fed), then "length".
  if (c.finish == FinishReason::length) {
    EXPECT_EQ(c.tokens.size(), 3u);
  }
  EXPECT_LE(c.tokens.size(), 3u);
  Request max_tokens;
  max_tokens.prompt = {1, 2};
  max_tokens.params.max_tokens = 5;
  max_tokens.params.stop_tokens = {};
  const Completion m = e.generate({max_tokens})[0];
  if (m.finish == FinishReason::length) {
    EXPECT_EQ(m.tokens.size(), 5u);
  }
  EXPECT_TRUE(e.idle());
  EXPECT_EQ(e.cache().allocator().free_blocks(), e.cache().n_blocks()) << "finished requests free their blocks";
}

TEST(Engine, CancelFreesTheSlotAndBlocksAtOnceAndLeavesOthersAlone) {
  const auto tok = byte_tokenizer();
  core::Transformer model(small("llama"));
  model.init_weights(5);
  std::vector<Request> rs = mixed_requests(0.0);
  const std::vector<Completion> alone = one_by_one(model, tok, {rs[1]});
  Engine e(model, tok, {.kv_cache_bytes = 1 << 20, .block_size = 4});
  const int64_t first = e.add(rs[0]);
  const int64_t kept = e.add(rs[1]);
  const int64_t third = e.add(rs[2]);
  Completion c;
  for (auto& o : e.step()) {
    if (o.id == kept) c.tokens = o.tokens;
  }
  EXPECT_EQ(e.n_running(), 3u);
  EXPECT_TRUE(e.cancel(third));
  EXPECT_TRUE(e.cancel(first));
  EXPECT_FALSE(e.cancel(third)) << "a second cancel finds nothing";
  EXPECT_EQ(e.n_running(), 1u);
  while (!e.idle()) {
    for (auto& o : e.step()) {
      EXPECT_EQ(o.id, kept) << "a cancelled request yields nothing";
      c.tokens.insert(c.tokens.end(), o.tokens.begin(), o.tokens.end());
    }
  }
  EXPECT_EQ(c.tokens, alone[0].tokens) << "cancelling others changes nothing for the one kept";
  EXPECT_EQ(e.cache().allocator().free_blocks(), e.cache().n_blocks());
}

}  // namespace
}  // namespace tessera::serve
