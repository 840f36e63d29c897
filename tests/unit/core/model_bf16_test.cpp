// The model in bf16 precision against the same model in fp32 (docs/training.md, Precision): the
// loss within 1% and the gradient within 3% (relative L2 over all parameters) for both families;
// batch-invariant forwards stay fp32, bit for bit; the bf16 copy follows refresh_compute_weights;
// f64 models refuse bf16.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/model/transformer.h"
#include "tests/support/tiny_model.h"

using namespace tessera::core;

namespace {

// (B,T) int32 tokens in [0, V): a fixed pseudo-random pattern.
Tensor pattern_tokens(int64_t B, int64_t T, int64_t V, int64_t salt) {
  Tensor t = Tensor::empty({B, T}, DType::i32);
  for (int64_t i = 0; i < B * T; ++i) t.data<int32_t>()[i] = static_cast<int32_t>((i * 37 + salt * 11 + i * i) % V);
  return t;
}

tessera::ModelConfig config(const std::string& family) {
  return tessera::testing_support::tiny_model(family, {.d_model = 64, .seq_len = 16, .vocab_size = 96});
}

// ||a - b|| / ||b|| over every gradient.
double relative_l2(const ParamRegistry& a, const ParamRegistry& b) {
  double num = 0, den = 0;
  const float *x = a.flat().data<float>(), *y = b.flat().data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    num += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    den += static_cast<double>(y[i]) * y[i];
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST(ModelBf16, TracksFp32LossAndGradients) {
  for (const std::string family : {"gpt2", "llama"}) {
    Transformer fp32(config(family)), bf16(config(family));
    fp32.init_weights(5);
    bf16.init_weights(5);
    bf16.set_precision(Precision::bf16);
    const Tensor tokens = pattern_tokens(4, 16, 96, 1), targets = pattern_tokens(4, 16, 96, 2);
    const double l32 = fp32.forward(tokens, targets), l16 = bf16.forward(tokens, targets);
    EXPECT_NE(l32, l16) << family << ": the bf16 path did not run";
    EXPECT_NEAR(l16, l32, 0.01 * l32) << family;
    fp32.zero_grad();
    bf16.zero_grad();
    fp32.backward();
    bf16.backward();
    const double err = relative_l2(bf16.grads(), fp32.grads());
    EXPECT_GT(err, 0.0) << family;
    EXPECT_LT(err, 0.03) << family;
  }
}

TEST(ModelBf16, BatchInvariantForwardStaysFp32) {
  Transformer fp32(config("gpt2")), bf16(config("gpt2"));
  fp32.init_weights(3);
  bf16.init_weights(3);
  bf16.set_precision(Precision::bf16);
  const Tensor tokens = pattern_tokens(2, 8, 96, 3);
  fp32.forward(tokens, Tensor(), {.batch_invariant = true});
  bf16.forward(tokens, Tensor(), {.batch_invariant = true});
  const Tensor& a = fp32.logits();
  const Tensor& b = bf16.logits();
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << i;
}

TEST(ModelBf16, ComputeCopyFollowsRefresh) {
  Transformer m(config("gpt2"));
  m.init_weights(4);
  m.set_precision(Precision::bf16);
  const Tensor tokens = pattern_tokens(2, 8, 96, 4), targets = pattern_tokens(2, 8, 96, 5);
  const double before = m.forward(tokens, targets);
  const Tensor& up = m.params().tensor(m.params().index_of("blocks.0.mlp.up.weight"));  // read by a GEMM only
  for (int64_t i = 0; i < up.numel(); ++i) up.data<float>()[i] *= 0.5f;
  EXPECT_EQ(m.forward(tokens, targets), before) << "the GEMMs read the bf16 copy until it is refreshed";
  m.refresh_compute_weights();
  EXPECT_NE(m.forward(tokens, targets), before);
}

TEST(ModelBf16, F64ModelRefusesBf16) {
  Transformer m(config("gpt2"), DType::f64);
  EXPECT_THROW(m.set_precision(Precision::bf16), tessera::Error);
}
