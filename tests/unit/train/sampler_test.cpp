// Sampling: greedy equals the argmax of the last position's logits, top-k 1 equals greedy, a seed
// reproduces a sampled sequence, and generation stops at the stop token.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "tests/support/tiny_model.h"
#include "train/sampler.h"

namespace tessera::train {
namespace {

ModelConfig tiny() {
  return testing_support::tiny_model("gpt2",
                                     {.n_layer = 1, .d_model = 16, .n_head = 2, .seq_len = 8, .vocab_size = 32});
}

TEST(Sampler, GreedyIsTheArgmaxOfTheLastLogits) {
  core::Transformer model(tiny());
  model.init_weights(11);
  const std::vector<int32_t> prompt = {1, 2, 3};
  SampleOptions o;
  o.max_tokens = 1;
  const auto out = generate(model, prompt, o);
  ASSERT_EQ(out.size(), 1u);
  core::Tensor input = core::Tensor::empty({1, 3}, core::DType::i32);
  std::copy(prompt.begin(), prompt.end(), input.data<int32_t>());
  model.forward(input);
  const float* last = model.logits().data<float>() + 2 * 32;
  EXPECT_EQ(out[0], std::max_element(last, last + 32) - last);
}

TEST(Sampler, TopOneIsGreedyAndSeedsReproduce) {
  core::Transformer model(tiny());
  model.init_weights(5);
  SampleOptions greedy;
  greedy.max_tokens = 12;  // longer than seq_len: the context is cropped
  SampleOptions top1 = greedy;
  top1.temperature = 1.0;
  top1.top_k = 1;
  EXPECT_EQ(generate(model, {0}, greedy), generate(model, {0}, top1));
  SampleOptions hot = greedy;
  hot.temperature = 5.0;
  hot.seed = 99;
  const auto a = generate(model, {0}, hot), b = generate(model, {0}, hot);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 12u);
  hot.seed = 100;
  EXPECT_NE(generate(model, {0}, hot), a) << "another seed should give another sample at temperature 5";
}

TEST(Sampler, StopsAtTheStopTokenAndRejectsEmptyPrompts) {
  core::Transformer model(tiny());
  model.init_weights(5);
  SampleOptions o;
  o.max_tokens = 5;
  const auto greedy = generate(model, {4}, o);
  o.stop_token = greedy[1];
  const auto stopped = generate(model, {4}, o);
  EXPECT_EQ(stopped.back(), greedy[1]);
  EXPECT_LE(stopped.size(), 2u);
  EXPECT_THROW(generate(model, {}, o), Error);
}

}  // namespace
}  // namespace tessera::train
