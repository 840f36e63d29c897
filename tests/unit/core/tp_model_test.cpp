// Tensor parallelism in the model, with threads as the ranks of an in-process group: vocab-parallel
// cross-entropy equals the full one (loss and gradient), shards initialise to their slices of the
// full tensors, a TP forward/backward of a tiny model equals the TP=1 one for both families
// (gathered logits, loss, gradients), and backward's readiness callback fires once per parameter
// in reverse layer order.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "core/cpu/cross_entropy.h"
#include "core/model/transformer.h"
#include "core/model/vocab_parallel.h"
#include "grad_check.h"
#include "parallel/in_process.h"
#include "parallel/tp_group.h"
#include "tests/support/tiny_model.h"

using namespace tessera::core;
using tessera::ModelConfig;

namespace {

// Runs fn(tp_group) on one thread per rank of an in-process group of `size`; rethrows a rank's error.
template <typename Fn>
void run_tp(int size, Fn fn) {
  auto comms = tessera::parallel::make_in_process_group(size, "tp", /*timeout_s=*/30.0);
  std::vector<std::string> errors(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      try {
        tessera::parallel::CommTpGroup group(*comms[static_cast<size_t>(r)]);
        fn(group);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < size; ++r) ASSERT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
}

// llama: grouped-query attention, 2 query heads per kv head
ModelConfig tiny(const std::string& family) {
  return tessera::testing_support::tiny_model(family, {.d_model = 16, .d_ff = 24, .seq_len = 6, .vocab_size = 12});
}

Tensor random_ids(int64_t B, int64_t T, int64_t V, uint32_t seed, bool with_ignored) {
  std::mt19937 gen(seed);
  Tensor t = Tensor::empty({B, T}, DType::i32);
  int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < B * T; ++i) p[i] = static_cast<int32_t>(gen() % static_cast<uint32_t>(V));
  if (with_ignored) p[1] = cpu::kIgnoreTarget;
  return t;
}

// Writes a rank's shard of parameter i into the full-shape buffer `full` (its full numel).
void scatter_shard(const ParamRegistry& reg, size_t i, std::vector<double>& full) {
  const ShardIndexMap to_full(reg.info(i), reg.tp_rank(), reg.tp_size());
  const double* d = reg.tensor(i).data<double>();
  for (int64_t k = 0; k < reg.tensor(i).numel(); ++k) full[static_cast<size_t>(to_full(k))] = d[k];
}

// What one layout computed, at full shapes.
struct Outcome {
  double loss = 0;
  std::vector<double> logits;                           // (B,T,V) of a forward without targets
  std::map<std::string, std::vector<double>> grads;     // by parameter name
};

// One step of a tiny double-precision model on `tp` thread-ranks; gradients gathered from the shards.
Outcome run_model(const ModelConfig& c, int tp) {
  const Tensor tokens = random_ids(2, 5, c.vocab_size, 1, false);
  const Tensor targets = random_ids(2, 5, c.vocab_size, 2, true);
  Outcome out;
  std::vector<double> losses;  // each rank's
  std::mutex mutex;
  run_tp(tp, [&](TpGroup& group) {
    Transformer model(c, DType::f64, &group);
    model.init_weights(11);
    model.zero_grad();
    const double loss = model.forward(tokens, targets);
    model.backward();
    model.forward(tokens);  // collective: every rank gathers the full logits
    const Tensor& logits = model.logits();
    EXPECT_EQ(logits.shape(), (Shape{2, 5, c.vocab_size}));
    std::lock_guard<std::mutex> lock(mutex);
    if (group.rank() == 0) {
      out.loss = loss;
      out.logits.assign(logits.data<double>(), logits.data<double>() + logits.numel());
    }
    for (size_t i = 0; i < model.grads().size(); ++i) {
      auto& full = out.grads[model.grads().info(i).name];
      full.resize(static_cast<size_t>(model.grads().info(i).numel()));
      scatter_shard(model.grads(), i, full);  // replicated ones: every rank writes the same values
    }
    losses.push_back(loss);
  });
  for (double l : losses) EXPECT_EQ(l, out.loss) << "tp peers disagree on the loss";
  return out;
}

}  // namespace

TEST(VocabParallel, CrossEntropyEqualsTheFullOne) {
  const int64_t N = 5, V = 12;
  const std::vector<double> logits = tessera::test::randn(static_cast<size_t>(N * V), 3, 2.0);
  const Tensor targets = random_ids(1, N, V, 4, /*with_ignored=*/true);
  std::vector<double> dfull(logits.size());
  const double full = cpu::softmax_cross_entropy<double>(logits.data(), dfull.data(), nullptr,
                                                        targets.data<int32_t>(), N, V);
  for (int tp : {1, 2, 3, 4}) {
    std::vector<double> dgathered(logits.size());
    std::mutex mutex;
    run_tp(tp, [&](TpGroup& group) {
      const int64_t Vs = V / tp, v0 = group.rank() * Vs;
      std::vector<double> shard(static_cast<size_t>(N * Vs));  // (N,Vs): columns [v0, v0+Vs)
      for (int64_t n = 0; n < N; ++n) {
        std::copy_n(logits.begin() + n * V + v0, Vs, shard.begin() + n * Vs);
      }
      const double loss = vocab_parallel_cross_entropy<double>(shard.data(), targets.data<int32_t>(), N, Vs, v0, group);
      EXPECT_NEAR(loss, full, 1e-12) << "tp " << tp;
      std::lock_guard<std::mutex> lock(mutex);
      for (int64_t n = 0; n < N; ++n) {
        std::copy_n(shard.begin() + n * Vs, Vs, dgathered.begin() + n * V + v0);
      }
    });
    for (size_t i = 0; i < dfull.size(); ++i) ASSERT_NEAR(dgathered[i], dfull[i], 1e-14) << "tp " << tp << " at " << i;
  }
}

TEST(VocabParallel, FloatShardsOfOneRankAreTheFusedKernelBitwise) {
  const int64_t N = 4, V = 40;
  std::vector<float> logits(static_cast<size_t>(N * V));
  const auto r = tessera::test::randn(logits.size(), 5, 3.0);
  std::copy(r.begin(), r.end(), logits.begin());
  const Tensor targets = random_ids(1, N, V, 6, true);
  std::vector<float> fused = logits, pieces = logits;
  SoloTpGroup solo;
  const double a =
      cpu::softmax_cross_entropy<float>(fused.data(), fused.data(), nullptr, targets.data<int32_t>(), N, V);
  const double b = vocab_parallel_cross_entropy<float>(pieces.data(), targets.data<int32_t>(), N, V, 0, solo);
  EXPECT_EQ(a, b);
  EXPECT_EQ(fused, pieces);
}

TEST(TensorParallel, ShardsHoldTheirSliceOfTheFullInitialisation) {
  const ModelConfig c = tiny("llama");
  Transformer full(c, DType::f64);
  full.init_weights(5);
  run_tp(2, [&](TpGroup& group) {
    Transformer model(c, DType::f64, &group);
    model.init_weights(5);
    const ParamRegistry& p = model.params();
    EXPECT_EQ(p.tensor(p.index_of("blocks.0.attn.qkv.weight")).shape(), (Shape{(2 + 2 * 1) * 4, 16}));
    EXPECT_EQ(p.tensor(p.index_of("blocks.0.attn.out.weight")).shape(), (Shape{16, 8}));
    EXPECT_EQ(p.tensor(p.index_of("embed.tokens.weight")).shape(), (Shape{6, 16}));
    EXPECT_EQ(p.tensor(p.index_of("final_norm.weight")).shape(), (Shape{16}));
    EXPECT_EQ(model.num_params(), full.num_params());
    for (size_t i = 0; i < p.size(); ++i) {
      const ShardIndexMap to_full(p.info(i), group.rank(), group.size());
      const double* mine = p.tensor(i).data<double>();
      const double* whole = full.params().tensor(i).data<double>();
      for (int64_t k = 0; k < p.tensor(i).numel(); ++k) {
        ASSERT_EQ(mine[k], whole[to_full(k)]) << p.info(i).name << " element " << k;
      }
    }
  });
}

TEST(TensorParallel, IndivisibleSplitsAreRejected) {
  ModelConfig c = tiny("gpt2");
  c.vocab_size = 13;
  run_tp(2, [&](TpGroup& group) {
    try {
      Transformer model(c, DType::f32, &group);
      ADD_FAILURE() << "a vocabulary of 13 was split among 2 ranks";
    } catch (const tessera::Error& e) {
      EXPECT_NE(std::string(e.what()).find("vocab_size (13)"), std::string::npos) << e.what();
    }
  });
}

class TensorParallelModel : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(TensorParallelModel, ForwardAndBackwardEqualTheSingleRankModel) {
  const auto& [family, tp] = GetParam();
  const ModelConfig c = tiny(family);
  const Outcome ref = run_model(c, 1), got = run_model(c, tp);
  EXPECT_NEAR(got.loss, ref.loss, 1e-12);
  ASSERT_EQ(got.logits.size(), ref.logits.size());
  for (size_t i = 0; i < ref.logits.size(); ++i) ASSERT_NEAR(got.logits[i], ref.logits[i], 1e-12) << "logit " << i;
  ASSERT_EQ(got.grads.size(), ref.grads.size());
  for (const auto& [name, g] : ref.grads) {
    const auto& h = got.grads.at(name);
    double scale = 0;
    for (double x : g) scale = std::max(scale, std::abs(x));
    EXPECT_GT(scale, 0) << name << " has no gradient";
    for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(h[i], g[i], 1e-12 * (1 + scale)) << name << "[" << i << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, TensorParallelModel,
                         ::testing::Values(std::make_tuple("gpt2", 2), std::make_tuple("gpt2", 4),
                                           std::make_tuple("llama", 2)));

TEST(GradReady, OncePerParameterInReverseLayerOrder) {
  for (const std::string family : {"gpt2", "llama"}) {
    for (int tp : {1, 2}) {
      const ModelConfig c = tiny(family);
      run_tp(tp, [&](TpGroup& group) {
        Transformer model(c, DType::f32, &group);
        model.init_weights(1);
        model.zero_grad();
        model.forward(random_ids(1, 4, c.vocab_size, 3, false), random_ids(1, 4, c.vocab_size, 4, false));
        std::vector<size_t> order;
        model.backward([&](size_t i) { order.push_back(i); });
        const ParamRegistry& p = model.params();
        ASSERT_EQ(order.size(), p.size()) << family;
        std::vector<int> seen(p.size(), 0);
        for (size_t i : order) ++seen[i];
        for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(seen[i], 1) << p.info(i).name;
        // Block of each signal, in signal order: never increasing (the last block first).
        auto block = [&](size_t i) {
          const std::string& n = p.info(i).name;
          return n.rfind("blocks.", 0) == 0 ? std::stoi(n.substr(7)) : -1;
        };
        int64_t last_block = c.n_layer;
        for (size_t i : order) {
          if (block(i) < 0) continue;
          EXPECT_LE(block(i), last_block) << p.info(i).name << " came after a lower block";
          last_block = block(i);
        }
        // The token embedding (and positions) only when the whole backward is done.
        EXPECT_EQ(p.info(order.back()).name.rfind("embed.", 0), 0u);
        // Untied head and final norm before any block.
        EXPECT_EQ(block(order.front()), -1);
      });
    }
  }
}
