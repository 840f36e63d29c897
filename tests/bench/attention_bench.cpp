// Causal self-attention, forward and backward, at the reference training shape (B=8, T=256,
// 4 heads of 64) and with grouped-query attention. GFLOP/s counts the dense products (forward:
// q k^T and p v, 4*B*NH*T*T*D; backward: 8*B*NH*T*T*D), as a fraction of the sgemm peak measured
// in the same process; the causal kernels skip the masked blocks (at T = 256 they perform 5/8 of
// those products), so the figure is an effective rate and may exceed the peak.
//   ./attention_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <vector>

#include "core/cpu/attention.h"
#include "core/cpu/gemm.h"

using namespace tessera::core::cpu;

namespace {

struct Shape {
  int64_t B, T, NH, NKV, D;
};

Shape shape_of(const benchmark::State& state) {
  return {state.range(0), state.range(1), state.range(2), state.range(3), state.range(4)};
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(n);
  for (float& x : v) x = nd(gen);
  return v;
}

template <typename Fn>
void run(benchmark::State& state, double flops_per_iter, Fn&& fn) {
  static const double peak = sgemm_peak_gflops(2048, 1.0);
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double gflops = flops_per_iter * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / peak;
}

void BM_AttentionForward(benchmark::State& state) {
  const Shape s = shape_of(state);
  const int64_t ld = (s.NH + 2 * s.NKV) * s.D;
  auto qkv = random_floats(static_cast<size_t>(s.B * s.T * ld), 1);
  std::vector<float> out(static_cast<size_t>(s.B * s.T * s.NH * s.D)),
      att(static_cast<size_t>(s.B * s.NH * s.T * s.T));
  run(state, 4.0 * static_cast<double>(s.B * s.NH * s.T * s.T * s.D), [&] {
    attention_forward<float>(out.data(), att.data(), qkv.data(), s.B, s.T, s.NH, s.NKV, s.D);
  });
}

void BM_AttentionBackward(benchmark::State& state) {
  const Shape s = shape_of(state);
  const int64_t ld = (s.NH + 2 * s.NKV) * s.D;
  auto qkv = random_floats(static_cast<size_t>(s.B * s.T * ld), 1);
  auto dout = random_floats(static_cast<size_t>(s.B * s.T * s.NH * s.D), 2);
  std::vector<float> out(dout.size()), att(static_cast<size_t>(s.B * s.NH * s.T * s.T)),
      dqkv(qkv.size());
  attention_forward<float>(out.data(), att.data(), qkv.data(), s.B, s.T, s.NH, s.NKV, s.D);
  run(state, 8.0 * static_cast<double>(s.B * s.NH * s.T * s.T * s.D), [&] {
    attention_backward<float>(dqkv.data(), dout.data(), qkv.data(), att.data(), s.B, s.T, s.NH,
                              s.NKV, s.D);
  });
}

}  // namespace

BENCHMARK(BM_AttentionForward)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AttentionBackward)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
