// The transformer: parameter registry, initialisation, whole-model gradient checks (double),
// overfitting one batch (float, AdamW) and input validation, for both families.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/cpu/adamw.h"
#include "core/cpu/cross_entropy.h"
#include "core/model/init.h"
#include "core/model/transformer.h"
#include "grad_check.h"
#include "tests/support/tiny_model.h"

using namespace tessera::core;
using tessera::ModelConfig;

namespace {

// llama: grouped-query attention (1 kv head for 2 query heads)
ModelConfig tiny(const std::string& family) {
  return tessera::testing_support::tiny_model(family,
                                              {.d_model = 8, .n_head = 2, .d_ff = 12, .seq_len = 6, .vocab_size = 11});
}

Tensor int_tensor(int64_t B, int64_t T, const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty({B, T}, DType::i32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

Tensor random_tokens(int64_t B, int64_t T, int64_t V, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> v(static_cast<size_t>(B * T));
  for (int32_t& x : v) x = static_cast<int32_t>(gen() % static_cast<uint32_t>(V));
  return int_tensor(B, T, v);
}

// AdamW over every registered parameter, with the registry's decay flags.
struct AdamW {
  ParamRegistry m, v;
  cpu::AdamWHyper hp;
  explicit AdamW(const ParamRegistry& params) : m(ParamRegistry::like(params, params.dtype())),
                                                v(ParamRegistry::like(params, params.dtype())) {}
  void step(ParamRegistry& params, const ParamRegistry& grads) {
    for (size_t i = 0; i < params.size(); ++i) {
      cpu::adamw_update<float>(params.tensor(i).data<float>(), grads.tensor(i).data<float>(),
                               m.tensor(i).data<float>(), v.tensor(i).data<float>(),
                               params.tensor(i).numel(), hp, params.info(i).weight_decay);
    }
    ++hp.step;
  }
};

}  // namespace

TEST(Registry, NamesShapesAndSplits) {
  ModelConfig c = tiny("gpt2");
  c.n_head = 4;
  c.n_kv_head = 2;
  Transformer gpt(c, DType::f32);
  const ParamRegistry& p = gpt.params();
  const int64_t D = 2, QKV = (4 + 2 * 2) * D;
  EXPECT_EQ(p["blocks.1.attn.qkv.weight"].shape(), (Shape{QKV, 8}));
  EXPECT_EQ(p["embed.positions.weight"].shape(), (Shape{6, 8}));
  EXPECT_EQ(p["blocks.0.mlp.down.weight"].shape(), (Shape{8, 12}));
  EXPECT_FALSE(p.contains("lm_head.weight"));  // tied
  EXPECT_THROW(p["blocks.2.attn.qkv.weight"], tessera::Error);
  const ParamInfo& qkv = p.info(p.index_of("blocks.0.attn.qkv.weight"));
  EXPECT_EQ(qkv.split, TpSplit::column);
  EXPECT_EQ(p.info(p.index_of("blocks.0.attn.out.weight")).split, TpSplit::row);
  EXPECT_EQ(p.info(p.index_of("blocks.0.mlp.up.bias")).split, TpSplit::column);
  EXPECT_EQ(p.info(p.index_of("blocks.0.mlp.down.bias")).split, TpSplit::replicated);
  EXPECT_EQ(p.info(p.index_of("embed.tokens.weight")).split, TpSplit::vocab);
  EXPECT_EQ(tp_split_name(TpSplit::row), "row");
  EXPECT_FALSE(p.info(p.index_of("blocks.0.attn_norm.bias")).weight_decay);
  EXPECT_TRUE(p.info(p.index_of("blocks.0.attn.qkv.weight")).weight_decay);
  // Rank 1 of 2 holds the second half of the query heads, of the key heads and of the value heads.
  const auto r = shard_ranges(qkv, 1, 2);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].start, 4);
  EXPECT_EQ(r[0].length, 4);
  EXPECT_EQ(r[1].start, 10);
  EXPECT_EQ(r[1].length, 2);
  EXPECT_EQ(r[2].start, 14);
  EXPECT_EQ(shard_shape(qkv, 2), (Shape{8, 8}));
  EXPECT_THROW(shard_ranges(qkv, 0, 4), tessera::Error);  // 2 kv heads among 4 ranks
  // The flat buffer holds every parameter in order.
  int64_t total = 0;
  for (size_t i = 0; i < p.size(); ++i) total += p.info(i).numel();
  EXPECT_EQ(p.numel(), total);
  EXPECT_EQ(gpt.grads().numel(), total);

  Transformer llama(tiny("llama"), DType::f32);
  EXPECT_TRUE(llama.params().contains("lm_head.weight"));
  EXPECT_TRUE(llama.params().contains("blocks.0.mlp.gate.weight"));
  EXPECT_FALSE(llama.params().contains("blocks.0.attn.qkv.bias"));
  EXPECT_FALSE(llama.params().contains("embed.positions.weight"));
  EXPECT_EQ(llama.params()["blocks.0.attn.qkv.weight"].shape(), (Shape{(2 + 2 * 1) * 4, 8}));
}

TEST(Init, CounterBasedAndGpt2Scaled) {
  ModelConfig c = tiny("gpt2");
  c.n_layer = 8;
  c.d_model = 64;
  c.n_head = 4;
  c.d_ff = 256;
  Transformer a(c), b(c), other(c);
  a.init_weights(7);
  b.init_weights(7);
  other.init_weights(8);
  const float* pa = a.params().flat().data<float>();
  EXPECT_TRUE(std::equal(pa, pa + a.num_params(), b.params().flat().data<float>()));
  EXPECT_NE(a.params()["blocks.0.attn.qkv.weight"].item({0, 0}),
            other.params()["blocks.0.attn.qkv.weight"].item({0, 0}));
  // Element i depends only on (seed, name, i): a shard computes its slice without the rest.
  const Tensor& w = a.params()["blocks.3.mlp.up.weight"];
  const uint64_t key = init_key(7, "blocks.3.mlp.up.weight");
  EXPECT_FLOAT_EQ(static_cast<float>(w.item({100, 5})), static_cast<float>(0.02 * normal_at(key, 100 * 64 + 5)));
  auto stddev = [](const Tensor& t) {
    double s = 0, s2 = 0;
    const float* d = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      s += d[i];
      s2 += double(d[i]) * d[i];
    }
    const double n = static_cast<double>(t.numel());
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  EXPECT_NEAR(stddev(a.params()["blocks.0.mlp.up.weight"]), 0.02, 0.0005);
  EXPECT_NEAR(stddev(a.params()["blocks.0.mlp.down.weight"]), 0.02 / 4.0, 0.0002);  // 1/sqrt(2*8)
  EXPECT_EQ(a.params()["blocks.0.mlp.up.bias"].item({3}), 0.0);
  EXPECT_EQ(a.params()["final_norm.weight"].item({3}), 1.0);
}

class ModelFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelFamily, GradientsMatchFiniteDifferences) {
  const ModelConfig c = tiny(GetParam());
  Transformer model(c, DType::f64);
  model.init_weights(1);
  // Larger weights than GPT-2's init so that every path carries a sizeable gradient.
  const auto noise = tessera::test::randn(static_cast<size_t>(model.num_params()), 2, 0.3);
  double* flat = model.params().flat().data<double>();
  for (int64_t i = 0; i < model.num_params(); ++i) flat[i] += noise[i];
  const int64_t B = 2, T = 5;
  Tensor tokens = random_tokens(B, T, c.vocab_size, 3);
  Tensor targets = random_tokens(B, T, c.vocab_size, 4);
  targets.data<int32_t>()[3] = cpu::kIgnoreTarget;
  model.zero_grad();
  const double loss = model.forward(tokens, targets);
  EXPECT_GT(loss, 0.0);
  model.backward();
  std::mt19937 gen(5);
  int checked = 0;
  for (size_t p = 0; p < model.params().size(); ++p) {
    const Tensor& w = model.params().tensor(p);
    const Tensor& g = model.grads().tensor(p);
    // Up to 6 elements per tensor; every tensor is covered.
    for (int k = 0; k < 6 && k < w.numel(); ++k) {
      const int64_t i = static_cast<int64_t>(gen() % static_cast<uint32_t>(w.numel()));
      double* x = w.data<double>() + i;
      const double saved = *x, eps = 1e-6;
      *x = saved + eps;
      const double lp = model.forward(tokens, targets);
      *x = saved - eps;
      const double lm = model.forward(tokens, targets);
      *x = saved;
      const double numeric = (lp - lm) / (2 * eps);
      const double analytic = g.data<double>()[i];
      ASSERT_NEAR(analytic, numeric, 1e-7 * std::max(1.0, std::abs(numeric)))
          << model.params().info(p).name << " element " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

TEST_P(ModelFamily, FloatMatchesDoubleAndLogitsMatchLoss) {
  const ModelConfig c = tiny(GetParam());
  Transformer m32(c, DType::f32), m64(c, DType::f64);
  m64.init_weights(3);
  m32.params().flat().copy_from(m64.params().flat());
  Tensor tokens = random_tokens(3, 6, c.vocab_size, 6), targets = random_tokens(3, 6, c.vocab_size, 7);
  const double l64 = m64.forward(tokens, targets);
  EXPECT_NEAR(m32.forward(tokens, targets), l64, 1e-5);
  EXPECT_NEAR(l64, std::log(11.0), 0.05);  // small init: nearly uniform predictions
  EXPECT_THROW(m64.logits(), tessera::Error);
  m64.forward(tokens);
  const Tensor& logits = m64.logits();
  EXPECT_EQ(logits.shape(), (Shape{3, 6, 11}));
  const double again = cpu::softmax_cross_entropy<double>(logits.data<double>(), nullptr, nullptr,
                                                          targets.data<int32_t>(), 18, 11);
  EXPECT_NEAR(again, l64, 1e-12);
}

TEST_P(ModelFamily, OverfitsOneBatch) {
  const ModelConfig c = tessera::testing_support::tiny_model(GetParam(), {.d_ff = 64});
  Transformer model(c, DType::f32);
  model.init_weights(11);
  AdamW opt(model.params());
  opt.hp.lr = 1e-2;
  opt.hp.weight_decay = 0.0;
  Tensor tokens = random_tokens(4, 16, 64, 12), targets = random_tokens(4, 16, 64, 13);
  double first = 0, loss = 0;
  int steps = 0;
  for (; steps < 300; ++steps) {
    model.zero_grad();
    loss = model.forward(tokens, targets);
    if (steps == 0) first = loss;
    if (loss < 0.1) break;
    model.backward();
    opt.step(model.params(), model.grads());
  }
  EXPECT_NEAR(first, std::log(64.0), 0.1);
  EXPECT_LT(loss, 0.1) << "after " << steps << " steps";
  EXPECT_GT(steps, 10);  // it learned, rather than starting low
  RecordProperty("steps", steps);
}

TEST_P(ModelFamily, BatchInvariantLogits) {
  ModelConfig c = tiny(GetParam());
  c.d_model = 64;
  c.n_head = 4;
  c.n_kv_head = GetParam() == "llama" ? 2 : 0;
  c.d_ff = 96;
  c.seq_len = 32;
  c.vocab_size = 300;
  Transformer model(c, DType::f32);
  model.init_weights(21);
  // 4 rows alone, 20 in the batch: BLAS picks different kernels for the two (measured).
  const int64_t B = 5, T = 4, V = c.vocab_size;
  const Tensor tokens = random_tokens(B, T, V, 22);
  ForwardOptions invariant;
  invariant.batch_invariant = true;
  model.forward(tokens, Tensor(), invariant);
  const Tensor batched = model.logits().clone();  // (B,T,V)
  model.forward(tokens);
  const Tensor blas = model.logits().clone();
  for (int64_t b = 0; b < B; ++b) {
    model.forward(tokens.slice(0, b, 1), Tensor(), invariant);
    const float* alone = model.logits().data<float>();
    const float* in_batch = batched.data<float>() + b * T * V;
    EXPECT_EQ(std::memcmp(alone, in_batch, sizeof(float) * T * V), 0) << "sequence " << b;
    for (int64_t i = 0; i < T * V; i += 97) {
      ASSERT_NEAR(in_batch[i], blas.data<float>()[b * T * V + i], 1e-4);  // same function
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ModelFamily, ::testing::Values("gpt2", "llama"));

TEST(Model, RejectsBadConfigs) {
  auto bad = [](auto edit) {
    ModelConfig c = tiny("llama");
    edit(c);
    EXPECT_THROW(Transformer m(c), tessera::Error);
  };
  bad([](ModelConfig& c) { c.d_model = 9; });                    // d_model % n_head
  bad([](ModelConfig& c) { c.n_head = 4; c.n_kv_head = 3; });    // n_head % n_kv_head
  bad([](ModelConfig& c) { c.d_model = 6; c.n_kv_head = 0; });   // odd head_dim under RoPE
  bad([](ModelConfig& c) { c.n_layer = 0; });
  ModelConfig ok = tiny("gpt2");
  ok.d_model = 6;  // odd head_dim is fine without RoPE
  EXPECT_NO_THROW(Transformer m(ok));
  EXPECT_THROW(Transformer m(tiny("gpt2"), DType::bf16), tessera::Error);
}

TEST(Model, RejectsBadInputsWithClearErrors) {
  Transformer model(tiny("gpt2"));
  model.init_weights(1);
  EXPECT_THROW(model.backward(), tessera::Error);  // no forward yet
  try {
    model.forward(random_tokens(1, 7, 11, 1));  // T = 7 > seq_len = 6
    FAIL() << "expected an error";
  } catch (const tessera::Error& e) {
    EXPECT_NE(std::string(e.what()).find("seq_len"), std::string::npos) << e.what();
  }
  try {
    model.forward(int_tensor(1, 3, {1, 11, 2}));
    FAIL() << "expected an error";
  } catch (const tessera::Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 11"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.forward(int_tensor(1, 2, {-1, 2})), tessera::Error);
  EXPECT_THROW(model.forward(int_tensor(1, 2, {1, 2}), int_tensor(1, 2, {1, 11})), tessera::Error);
  EXPECT_THROW(model.forward(int_tensor(1, 2, {1, 2}), int_tensor(2, 1, {1, 1})), tessera::Error);
  EXPECT_THROW(model.forward(Tensor::zeros({1, 2})), tessera::Error);  // float tokens
  EXPECT_THROW(model.backward(), tessera::Error);  // the failed forwards left nothing to backprop
  // A good call still works after the errors.
  EXPECT_GT(model.forward(int_tensor(1, 2, {1, 2}), int_tensor(1, 2, {2, 3})), 0.0);
  EXPECT_NO_THROW(model.backward());
}
