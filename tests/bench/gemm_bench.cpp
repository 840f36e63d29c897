// GEMM throughput for the shapes of the reference training config (gpt2, 4 layers, d=256,
// 4 heads, T=256, B=8, vocab 8192: N = B*T = 2048 rows), as GFLOP/s and as a fraction of the
// sgemm peak measured first in the same process (square 2048^3); BM_GemmBf16 runs the same
// shapes as bf16 training does (oneDNN bf16 matmul, f32 out) against the bf16 peak.
//   ./gemm_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/gemm_bf16.h"

using namespace tessera::core::cpu;

namespace {

double peak() {
  static const double p = sgemm_peak_gflops(2048, 1.0);
  return p;
}

void report(benchmark::State& state, double flops_per_iter, double seconds) {
  const double gflops = flops_per_iter * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / peak();
  state.counters["peak_GFLOP/s"] = peak();
}

// Args: M, N, K, trans_a, trans_b (row-major, as core::cpu::gemm).
void BM_Sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  std::vector<float> a(static_cast<size_t>(M * K), 0.5f), b(static_cast<size_t>(K * N), 0.25f),
      c(static_cast<size_t>(M * N));
  peak();
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm<float>(ta, tb, M, N, K, 1.0f, a.data(), ta ? M : K, b.data(), tb ? K : N, 0.0f, c.data(), N);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(c.data());
  }
  report(state, 2.0 * static_cast<double>(M * N * K), seconds);
  state.SetLabel(gemm_backend());
}

// Args as BM_Sgemm; bf16 operands (the values do not matter to the speed), f32 out.
void BM_GemmBf16(benchmark::State& state) {
  static const double bf16_peak = bf16_gemm_peak_gflops(2048, 1.0);
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  std::vector<uint16_t> a(static_cast<size_t>(M * K), 0x3f00), b(static_cast<size_t>(K * N), 0x3e80);
  std::vector<float> c(static_cast<size_t>(M * N));
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm_bf16(ta, tb, M, N, K, a.data(), ta ? M : K, b.data(), tb ? K : N, false, c.data(), N);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(c.data());
  }
  const double gflops = 2.0 * static_cast<double>(M * N * K) * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["bf16_peak_frac"] = gflops / bf16_peak;
  state.counters["bf16_peak_GFLOP/s"] = bf16_peak;
  state.SetLabel(bf16_gemm_isa());
}

// The batch-invariant path (serving): X (M,K) @ W^T, W (N,K).
void BM_RowwiseNT(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  std::vector<float> a(static_cast<size_t>(M * K), 0.5f), b(static_cast<size_t>(N * K), 0.25f),
      c(static_cast<size_t>(M * N));
  peak();
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm_nt_rowwise<float>(M, N, K, a.data(), K, b.data(), K, c.data(), N, false);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(c.data());
  }
  report(state, 2.0 * static_cast<double>(M * N * K), seconds);
  // One pass over W per call: at M = 1 the product streams W (memory-bound when W exceeds the caches).
  state.counters["W_GB/s"] = 4.0 * static_cast<double>(N * K) * static_cast<double>(state.iterations()) / seconds * 1e-9;
}

}  // namespace

BENCHMARK(BM_Sgemm)
    ->ArgNames({"M", "N", "K", "ta", "tb"})
    ->Args({2048, 2048, 2048, 0, 0})  // the peak shape itself
    // forward: inp (2048,C) @ W^T; a narrowing layer (mlp.down) runs on W transposed first (NN)
    ->Args({2048, 768, 256, 0, 1})    // qkv
    ->Args({2048, 256, 256, 0, 1})    // attn.out
    ->Args({2048, 1024, 256, 0, 1})   // mlp.up
    ->Args({2048, 256, 1024, 0, 0})   // mlp.down, and dinp of mlp.up
    ->Args({2048, 8192, 256, 0, 1})   // lm head
    // backward: dinp = dout @ W (NN); dW = dout^T @ inp (TN), or for a widening layer
    // dW^T = inp^T @ dout (TN, then added back transposed)
    ->Args({2048, 256, 768, 0, 0})    // dinp of qkv
    ->Args({2048, 1024, 256, 0, 0})   // dinp of mlp.down
    ->Args({2048, 256, 8192, 0, 0})   // dinp of lm head
    ->Args({256, 768, 2048, 1, 0})    // dW^T of qkv
    ->Args({256, 1024, 2048, 1, 0})   // dW^T of mlp.up, dW of mlp.down
    ->Args({256, 8192, 2048, 1, 0})   // dW^T of lm head
    // attention, per (sequence, head): T=256, D=64
    ->Args({256, 256, 64, 0, 1})      // scores q @ k^T
    ->Args({256, 64, 256, 0, 0})      // p @ v
    // serving, GPT-2 124M: 16 decoding sequences through mlp.up; a 512-token prefill
    ->Args({16, 3072, 768, 0, 1})
    ->Args({512, 3072, 768, 0, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK(BM_GemmBf16)
    ->ArgNames({"M", "N", "K", "ta", "tb"})
    ->Args({2048, 2048, 2048, 0, 0})  // the peak shape itself
    ->Args({2048, 768, 256, 0, 1})    // forward: qkv
    ->Args({2048, 1024, 256, 0, 1})   // mlp.up
    ->Args({2048, 256, 1024, 0, 0})   // dinp of mlp.up
    ->Args({2048, 8192, 256, 0, 1})   // lm head
    ->Args({2048, 256, 8192, 0, 0})   // dinp of lm head
    ->Args({768, 256, 2048, 1, 0})    // dW of qkv: dout^T read in place (trans_a)
    ->Args({8192, 256, 2048, 1, 0})   // dW of the lm head
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK(BM_RowwiseNT)
    ->ArgNames({"M", "N", "K"})
    ->Args({1, 768, 256})     // decode one token through qkv
    ->Args({1, 50304, 768})   // decode one token through GPT-2 124M's lm head (154 MB: from memory)
    ->Args({256, 768, 256})   // prefill 256 tokens
    ->Args({16, 3072, 768})   // 16 decoding sequences through GPT-2 124M's mlp.up
    ->Args({512, 3072, 768})  // a 512-token prefill through it
    ->Args({512, 768, 3072})  // and through mlp.down (a long K)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK_MAIN();
