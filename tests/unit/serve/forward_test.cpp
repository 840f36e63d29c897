// The serving forward against the training forward: prefill in chunks and decode through the paged
// KV cache give the logits core::Transformer::forward computes on the whole sequence (gpt2, and
// llama with grouped-query attention), across block boundaries; and a sequence's logits are
// bitwise the same alone, beside others, and at any chunking of its prompt.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "serve/forward.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/serve/serve_test_support.h"

namespace tessera::serve {
namespace {

ModelConfig small(const std::string& family) {
  return testing_support::tiny_model(family, {.seq_len = 40, .vocab_size = 50});
}

std::vector<int32_t> random_tokens(int64_t n, int64_t V, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng() % static_cast<uint64_t>(V));
  return t;
}

// (T,V) logits of the training forward on the whole sequence.
std::vector<float> reference_logits(core::Transformer& model, const std::vector<int32_t>& tokens) {
  const auto T = static_cast<int64_t>(tokens.size());
  core::Tensor input = core::Tensor::empty({1, T}, core::DType::i32);
  std::copy(tokens.begin(), tokens.end(), input.data<int32_t>());
  model.forward(input, core::Tensor(), {.batch_invariant = true});
  const float* l = model.logits().data<float>();
  return {l, l + T * model.config().vocab_size};
}

std::vector<int32_t> slice(const std::vector<int32_t>& v, size_t a, size_t b) { return {v.begin() + a, v.begin() + b}; }

// Runs tokens [start, end) of a sequence as one step (all logits), after reserving its blocks.
std::vector<float> run_chunk(InferenceForward& f, KvCache& cache, BlockTable& table, const std::vector<int32_t>& t,
                             size_t start, size_t end) {
  EXPECT_TRUE(cache.reserve(table, static_cast<int64_t>(end)));
  StepBatch b;
  b.add(table, slice(t, start, end), static_cast<int64_t>(start), true, true);
  const core::Tensor& l = f.forward(b);
  table.n_cached = static_cast<int64_t>(end);
  return {l.data<float>(), l.data<float>() + l.numel()};
}

class ForwardVsTraining : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardVsTraining, ChunkedPrefillAndDecodeMatchTheFullForward) {
  core::Transformer model(small(GetParam()));
  model.init_weights(7);
  const int64_t V = model.config().vocab_size;
  const auto tokens = random_tokens(23, V, 3);
  const auto ref = reference_logits(model, tokens);
  KvCache cache(kv_cache_shape(model, 4), 16);  // blocks of 4 tokens: the sequence spans 6
  InferenceForward f(model, cache);
  BlockTable table;
  std::vector<float> got = run_chunk(f, cache, table, tokens, 0, 9);  // prefill in two chunks
  const auto second = run_chunk(f, cache, table, tokens, 9, 14);
  got.insert(got.end(), second.begin(), second.end());
  for (size_t t = 14; t < tokens.size(); ++t) {  // then one token per step
    const auto row = run_chunk(f, cache, table, tokens, t, t + 1);
    got.insert(got.end(), row.begin(), row.end());
  }
  ASSERT_EQ(got.size(), ref.size());
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - double(ref[i])));
  EXPECT_LT(worst, 2e-5) << "largest logit difference";
}

// A's logits alone in one chunk, in three chunks and beside two other sequences: bitwise equal.
void expect_batch_invariant(const std::string& family, WeightPrecision weights) {
  core::Transformer model(small(family));
  model.init_weights(9);
  const int64_t V = model.config().vocab_size;
  const auto a = random_tokens(17, V, 1), other1 = random_tokens(30, V, 2), other2 = random_tokens(5, V, 4);
  KvCache cache(kv_cache_shape(model, 4), 32);
  InferenceForward f(model, cache, true, weights);
  // Alone, in one chunk.
  BlockTable alone;
  const auto solo = run_chunk(f, cache, alone, a, 0, a.size());
  // In three chunks.
  BlockTable chunked;
  run_chunk(f, cache, chunked, a, 0, 3);
  run_chunk(f, cache, chunked, a, 3, 11);
  const auto last = run_chunk(f, cache, chunked, a, 11, a.size());
  // Beside two other sequences in one step, between them.
  BlockTable t1, t2, ta;
  ASSERT_TRUE(cache.reserve(t1, 30) && cache.reserve(t2, 5) && cache.reserve(ta, 17));
  StepBatch b;
  b.add(t1, other1, 0, true);
  b.add(ta, a, 0, true, true);
  b.add(t2, other2, 0, true);
  const core::Tensor& l = f.forward(b);
  ASSERT_EQ(l.size(0), 1 + 17 + 1);
  const float* mixed = l.data<float>() + V;  // a's rows follow other1's one logit row
  EXPECT_EQ(std::memcmp(mixed, solo.data(), solo.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(last.data(), solo.data() + 11 * V, last.size() * sizeof(float)), 0);
}

TEST_P(ForwardVsTraining, LogitsAreBitwiseTheSameAloneBesideOthersAndAtAnyChunking) {
  expect_batch_invariant(GetParam(), WeightPrecision::f32);
}

TEST_P(ForwardVsTraining, BlasProjectionsStayWithinTolerance) {
  core::Transformer model(small(GetParam()));
  model.init_weights(8);
  const auto tokens = random_tokens(19, model.config().vocab_size, 5);
  const auto ref = reference_logits(model, tokens);
  KvCache cache(kv_cache_shape(model, 4), 16);
  InferenceForward f(model, cache, /*batch_invariant=*/false);
  BlockTable table;
  std::vector<float> got = run_chunk(f, cache, table, tokens, 0, 12);
  for (size_t t = 12; t < tokens.size(); ++t) {
    const auto row = run_chunk(f, cache, table, tokens, t, t + 1);
    got.insert(got.end(), row.begin(), row.end());
  }
  ASSERT_EQ(got.size(), ref.size());
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - double(ref[i])));
  EXPECT_LT(worst, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Families, ForwardVsTraining, ::testing::Values("gpt2", "llama"));

// bf16 and int8 weights: batch-invariant as f32, and close to the training forward in f32.
class ForwardPrecisions : public ::testing::TestWithParam<std::tuple<std::string, WeightPrecision>> {};

TEST_P(ForwardPrecisions, LogitsAreBitwiseTheSameAloneBesideOthersAndAtAnyChunking) {
  expect_batch_invariant(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

TEST_P(ForwardPrecisions, LogitsStayCloseToTheF32TrainingForward) {
  const auto [family, weights] = GetParam();
  core::Transformer model(small(family));
  model.init_weights(8);
  const auto tokens = random_tokens(19, model.config().vocab_size, 5);
  const auto ref = reference_logits(model, tokens);
  KvCache cache(kv_cache_shape(model, 4), 16);
  InferenceForward f(model, cache, true, weights);
  BlockTable table;
  std::vector<float> got = run_chunk(f, cache, table, tokens, 0, 12);
  for (size_t t = 12; t < tokens.size(); ++t) {
    const auto row = run_chunk(f, cache, table, tokens, t, t + 1);
    got.insert(got.end(), row.begin(), row.end());
  }
  ASSERT_EQ(got.size(), ref.size());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::abs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::abs(double(ref[i])));
  }
  // Rounding the weights (and, for int8 and bf16, the activations) moves the logits a little, not 0.
  EXPECT_GT(worst, 0.0);
  EXPECT_LT(worst, 0.05 * scale) << "largest logit " << scale;
}

INSTANTIATE_TEST_SUITE_P(Families, ForwardPrecisions,
                         ::testing::Combine(::testing::Values("gpt2", "llama"),
                                            ::testing::Values(WeightPrecision::bf16, WeightPrecision::int8)),
                         [](const auto& cell) {
                           return std::get<0>(cell.param) + "_" + weight_precision_name(std::get<1>(cell.param));
                         });

TEST(InferenceForward, RejectsPositionsPastTheContextAndRowsWithoutBlocks) {
  core::Transformer model(small("gpt2"));
  KvCache cache(kv_cache_shape(model, 4), 16);
  InferenceForward f(model, cache);
  BlockTable table;
  ASSERT_TRUE(cache.reserve(table, 4));
  StepBatch b;
  b.add(table, {1, 2, 3, 4, 5}, 0, true);  // the fifth token has no block
  EXPECT_THROW(f.forward(b), Error);
  b.clear();
  table.n_cached = 40;
  b.add(table, {1}, 40, true);  // position 40 of a 40-token context
  EXPECT_THROW(f.forward(b), Error);
}

}  // namespace
}  // namespace tessera::serve
