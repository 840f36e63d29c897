// One training step (forward + backward + AdamW, fp32) of the reference config: 4 layers,
// d=256, 4 heads, T=256, B=8, vocab 8192 (the peer PyTorch script's defaults). Reports tokens/s,
// GFLOP/s (6 * params * tokens + 12 * layers * d * T * tokens, the peer's count) and the fraction
// of the sgemm peak measured in the same process.
//   ./model_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>

#include "core/cpu/adamw.h"
#include "core/cpu/gemm.h"
#include "core/model/transformer.h"

using namespace tessera::core;

namespace {

tessera::ModelConfig reference_config(const std::string& family) {
  tessera::ModelConfig c;
  c.family = tessera::family_from_name(family, "benchmark");
  c.n_layer = 4;
  c.d_model = 256;
  c.n_head = 4;
  c.n_kv_head = 0;
  c.seq_len = 256;
  c.vocab_size = 8192;
  c.tie_embeddings = c.family == tessera::Family::gpt2;
  return c;
}

Tensor random_tokens(int64_t B, int64_t T, int64_t V, uint32_t seed) {
  std::mt19937 gen(seed);
  Tensor t = Tensor::empty({B, T}, DType::i32);
  for (int64_t i = 0; i < B * T; ++i) t.data<int32_t>()[i] = static_cast<int32_t>(gen() % V);
  return t;
}

void BM_TrainStep(benchmark::State& state, const std::string& family) {
  static const double peak = cpu::sgemm_peak_gflops(2048, 1.0);
  const int64_t B = 8, T = 256;
  Transformer model(reference_config(family), DType::f32);
  model.init_weights(1);
  ParamRegistry m = ParamRegistry::like(model.params(), DType::f32);
  ParamRegistry v = ParamRegistry::like(model.params(), DType::f32);
  const Tensor tokens = random_tokens(B, T, 8192, 1), targets = random_tokens(B, T, 8192, 2);
  cpu::AdamWHyper hp;
  std::vector<cpu::AdamWSegment> segments;  // every parameter, one update pass (as train::AdamW)
  for (size_t i = 0, begin = 0; i < model.params().size(); ++i) {
    const auto n = static_cast<size_t>(model.params().tensor(i).numel());
    segments.push_back({static_cast<int64_t>(begin), static_cast<int64_t>(begin + n),
                        model.params().info(i).weight_decay});
    begin += n;
  }
  auto step = [&] {
    model.zero_grad();
    const double loss = model.forward(tokens, targets);
    model.backward();
    cpu::adamw_update<float>(model.params().flat().data<float>(), model.grads().flat().data<float>(),
                             m.flat().data<float>(), v.flat().data<float>(), segments, hp);
    ++hp.step;
    return loss;
  };
  step();  // warm-up: arenas reach their steady size
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(step());
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double tokens_per_s = static_cast<double>(B * T * state.iterations()) / seconds;
  const double gflops = tokens_per_s * model.train_flops_per_token(T) * 1e-9;
  state.counters["tokens/s"] = tokens_per_s;
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / peak;
  state.counters["peak_GFLOP/s"] = peak;
  state.counters["params"] = static_cast<double>(model.num_params());
}

}  // namespace

BENCHMARK_CAPTURE(BM_TrainStep, gpt2, std::string("gpt2"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, llama, std::string("llama"))->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
