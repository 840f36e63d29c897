// Causal self-attention, forward and backward, at the reference training shape (B=8, T=256,
// 4 heads of 64) and with grouped-query attention. GFLOP/s counts the dense products (forward:
// q k^T and p v, 4*B*NH*T*T*D; backward: 8*B*NH*T*T*D), as a fraction of the sgemm peak measured
// in the same process; the causal kernels skip the masked blocks (at T = 256 they perform 5/8 of
// those products), so the figure is an effective rate and may exceed the peak.
// The Bf16 variants: the same with bf16 products (attention_bf16.h, bf16 training), beside the f32
// kernels in one run.
// BM_DecodeAttentionPaged: one decode step's attention as the serving engine runs it, B
// sequences of one new token each against n cached tokens held in pages of 16 (scattered over a
// pool, read in place), f32 or bf16; GB/s counts the bytes of keys and values read.
//   ./attention_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <vector>

#include "core/cpu/attention.h"
#include "core/cpu/attention_bf16.h"
#include "core/cpu/bf16_round.h"
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

std::vector<uint16_t> rounded(const std::vector<float>& x) {
  std::vector<uint16_t> b(x.size());
  round_to_bf16(b.data(), x.data(), static_cast<int64_t>(x.size()));
  return b;
}

void BM_AttentionForwardBf16(benchmark::State& state) {
  const Shape s = shape_of(state);
  const int64_t ld = (s.NH + 2 * s.NKV) * s.D;
  const auto qkv = rounded(random_floats(static_cast<size_t>(s.B * s.T * ld), 1));
  std::vector<float> out(static_cast<size_t>(s.B * s.T * s.NH * s.D)), att(static_cast<size_t>(s.B * s.NH * s.T * s.T));
  std::vector<uint16_t> attb(att.size());
  run(state, 4.0 * static_cast<double>(s.B * s.NH * s.T * s.T * s.D), [&] {
    attention_forward_bf16(out.data(), att.data(), attb.data(), qkv.data(), s.B, s.T, s.NH, s.NKV, s.D);
  });
}

void BM_AttentionBackwardBf16(benchmark::State& state) {
  const Shape s = shape_of(state);
  const int64_t ld = (s.NH + 2 * s.NKV) * s.D;
  const auto qkv = rounded(random_floats(static_cast<size_t>(s.B * s.T * ld), 1));
  const auto dout = rounded(random_floats(static_cast<size_t>(s.B * s.T * s.NH * s.D), 2));
  std::vector<float> out(dout.size()), att(static_cast<size_t>(s.B * s.NH * s.T * s.T)), dqkv(qkv.size());
  std::vector<uint16_t> attb(att.size());
  attention_forward_bf16(out.data(), att.data(), attb.data(), qkv.data(), s.B, s.T, s.NH, s.NKV, s.D);
  run(state, 8.0 * static_cast<double>(s.B * s.NH * s.T * s.T * s.D), [&] {
    attention_backward_bf16(dqkv.data(), dout.data(), qkv.data(), att.data(), attb.data(), s.B, s.T, s.NH, s.NKV, s.D);
  });
}

template <typename E>
void BM_DecodeAttentionPaged(benchmark::State& state) {
  const int64_t B = state.range(0), n = state.range(1), NH = state.range(2), D = state.range(3), page = 16;
  const int64_t pages = (n + page - 1) / page;
  const auto q = random_floats(static_cast<size_t>(B * NH * D), 1);
  const auto kf = random_floats(static_cast<size_t>(B * pages * NH * page * D), 2);
  const auto vf = random_floats(kf.size(), 3);
  const std::vector<E> kpool(kf.begin(), kf.end()), vpool(vf.begin(), vf.end());
  // The cache's layout: a block holds each head's page of (page, D) values. Block p of sequence b is
  // pool block (b * pages + p) * 11 mod (B * pages), scattered as a block allocator leaves them.
  std::vector<std::vector<const E*>> keys(static_cast<size_t>(B * NH)), values(keys.size());
  for (int64_t bh = 0; bh < B * NH; ++bh) {
    for (int64_t p = 0; p < pages; ++p) {
      const int64_t at = (((bh / NH * pages + p) * 11) % (B * pages) * NH + bh % NH) * page * D;
      keys[static_cast<size_t>(bh)].push_back(kpool.data() + at);
      values[static_cast<size_t>(bh)].push_back(vpool.data() + at);
    }
  }
  std::vector<float> out(q.size()), scratch(static_cast<size_t>(paged_attention_scratch(1, n, D)));
  for (auto _ : state) {
    for (int64_t bh = 0; bh < B * NH; ++bh) {
      const PagedContext<E> ctx{keys[static_cast<size_t>(bh)].data(), values[static_cast<size_t>(bh)].data(), page, D};
      attention_rows_paged<float>(out.data() + bh * D, D, q.data() + bh * D, D, 1, ctx, n, D, scratch.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(2 * B * NH * n * D * sizeof(E)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_AttentionForward)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// GPT-2 124M's 12 heads of 64 at batch 1 and 16, 80 and 1000 cached tokens.
BENCHMARK(BM_DecodeAttentionPaged<float>)
    ->ArgNames({"B", "n", "NH", "D"})
    ->ArgsProduct({{1, 16}, {80, 1000}, {12}, {64}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeAttentionPaged<tessera::core::bf16>)
    ->ArgNames({"B", "n", "NH", "D"})
    ->ArgsProduct({{1, 16}, {80, 1000}, {12}, {64}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AttentionBackward)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_AttentionForwardBf16)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AttentionBackwardBf16)
    ->ArgNames({"B", "T", "NH", "NKV", "D"})
    ->Args({8, 256, 4, 4, 64})
    ->Args({8, 256, 8, 2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
