// The int8 and bf16 linear layers (serving) against the f32 one on GPT-2-124M shapes: C = 768 into qkv
// (2304), attn.out (768), mlp.up (3072); mlp.down (3072 -> 768); the lm head (768 -> 50304).
// Decode is a GEMV (N = 1) and is bound by memory, so the figures that matter are the bytes of
// weights read per second, as a fraction of this machine's read bandwidth measured first in the
// same process (a vectorised sum over 512 MiB, far larger than the L3). With cold = 1 every call
// reads the next of several copies of the weight (at least 128 MiB in all, as a model's layers
// are), so the weights come from memory, not from the cache; cold = 0 reuses one copy.
//   ./int8_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cpu/linear.h"
#include "core/cpu/linear_bf16.h"
#include "core/cpu/linear_int8.h"
#include "core/cpu/quant.h"
#include "core/cpu/vec_math.h"

using namespace tessera::core::cpu;

namespace {

constexpr size_t kColdBytes = size_t{128} << 20;

// Sum of 64-bit words: integer addition is associative, so the loop vectorises without -Ofast.
// Prefetched 2 KiB ahead, as the int8 kernel's weight streams are (n: a multiple of 64).
TESSERA_SIMD_CLONES uint64_t sum_words(const uint64_t* p, int64_t n) {
  uint64_t s = 0;
  for (int64_t i = 0; i < n; i += 64) {
    __builtin_prefetch(p + i + 256);
    for (int64_t j = i; j < i + 64; ++j) s += p[j];
  }
  return s;
}

// The machine's read bandwidth in GB/s: the best of 8 passes over 512 MiB, split over all its
// cores whatever OMP_NUM_THREADS says (one core alone reads less than the memory can give).
double memory_read_gbs() {
  static const double gbs = [] {
    const int64_t n = (int64_t{512} << 20) / 8;
    std::vector<uint64_t> buf(static_cast<size_t>(n), 1);
    double best = 0;
    uint64_t total = 0;
    for (int pass = 0; pass < 8; ++pass) {
      const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(omp_get_num_procs()) reduction(+ : total)
      {
        const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
        const int64_t b = n * t / T / 64 * 64, e = n * (t + 1) / T / 64 * 64;
        total += sum_words(buf.data() + b, e - b);
      }
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 8.0 * static_cast<double>(n) / dt * 1e-9);
    }
    benchmark::DoNotOptimize(total);
    return best;
  }();
  return gbs;
}

std::vector<float> randn(size_t n, uint32_t seed, float sd) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = nd(gen);
  return v;
}

size_t copies_for(size_t bytes, bool cold) { return cold ? std::max<size_t>(1, (kColdBytes + bytes - 1) / bytes) : 1; }

void report(benchmark::State& state, double weight_bytes, double ops, double seconds) {
  const double calls = static_cast<double>(state.iterations());
  const double gbs = weight_bytes * calls / seconds * 1e-9;
  state.counters["GOP/s"] = ops * calls / seconds * 1e-9;
  state.counters["weights_GB/s"] = gbs;
  state.counters["mem_GB/s"] = memory_read_gbs();
  state.counters["bw_frac"] = gbs / memory_read_gbs();
  state.counters["us/call"] = seconds / calls * 1e6;
}

// Args: N, C, OC, cold, batch_invariant (1: the serving path, gemm_nt_rowwise; 0: oneDNN sgemm).
void BM_LinearF32(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), OC = state.range(2);
  const bool cold = state.range(3) != 0, invariant = state.range(4) != 0;
  memory_read_gbs();
  const size_t wn = static_cast<size_t>(OC * C), copies = copies_for(wn * 4, cold);
  std::vector<float> w = randn(wn, 1, 0.02f);
  w.resize(wn * copies);
  for (size_t c = 1; c < copies; ++c) std::copy(w.begin(), w.begin() + static_cast<int64_t>(wn), w.begin() + static_cast<int64_t>(c * wn));
  const std::vector<float> x = randn(static_cast<size_t>(N * C), 2, 1.0f), bias(static_cast<size_t>(OC), 0.01f);
  std::vector<float> out(static_cast<size_t>(N * OC));
  size_t c = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    linear_forward<float>(out.data(), x.data(), w.data() + c * wn, bias.data(), N, C, OC, invariant);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(out.data());
    c = (c + 1) % copies;
  }
  report(state, 4.0 * static_cast<double>(wn), 2.0 * static_cast<double>(N * C * OC), seconds);
  state.SetLabel(invariant ? "f32 rowwise" : "f32 oneDNN");
}

// The reduced-precision weights beside each other: how one is made from f32 weights, the layer's
// forward, the kernels (ISAs) and their names.
struct Int8Weights {
  using Isa = Int8Isa;
  static constexpr const char* kName = "int8";
  static QuantizedWeight make(const float* w, int64_t OC, int64_t C) { return quantize_weight(w, OC, C); }
  static void forward(float* out, const float* x, const QuantizedWeight& w, const float* bias, int64_t N, Isa isa) {
    linear_int8_forward(out, x, w, bias, N, isa);
  }
  static bool supported(Isa isa) { return int8_isa_supported(isa); }
  static const char* isa_name(Isa isa) { return int8_isa_name(isa); }
};

struct Bf16Weights {
  using Isa = Bf16Isa;
  static constexpr const char* kName = "bf16";
  static Bf16Weight make(const float* w, int64_t OC, int64_t C) { return to_bf16_weight(w, OC, C); }
  static void forward(float* out, const float* x, const Bf16Weight& w, const float* bias, int64_t N, Isa isa) {
    linear_bf16_forward(out, x, w, bias, nullptr, N, isa);
  }
  static bool supported(Isa isa) { return bf16_isa_supported(isa); }
  static const char* isa_name(Isa isa) { return bf16_isa_name(isa); }
};

// Args: N, C, OC, cold, isa (Weights::Isa: 0 is the best the CPU has).
template <typename Weights>
void linear_reduced(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), OC = state.range(2);
  const bool cold = state.range(3) != 0;
  const auto isa = static_cast<typename Weights::Isa>(state.range(4));
  if (!Weights::supported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  memory_read_gbs();
  const std::vector<float> wf = randn(static_cast<size_t>(OC * C), 1, 0.02f);
  const auto one = Weights::make(wf.data(), OC, C);
  const std::vector<std::remove_const_t<decltype(one)>> w(copies_for(one.bytes(), cold), one);
  const size_t copies = w.size();
  const std::vector<float> x = randn(static_cast<size_t>(N * C), 2, 1.0f), bias(static_cast<size_t>(OC), 0.01f);
  std::vector<float> out(static_cast<size_t>(N * OC));
  size_t c = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Weights::forward(out.data(), x.data(), w[c], bias.data(), N, isa);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(out.data());
    c = (c + 1) % copies;
  }
  report(state, static_cast<double>(one.bytes()), 2.0 * static_cast<double>(N * C * OC), seconds);
  state.SetLabel(std::string(Weights::kName) + " " + Weights::isa_name(isa));
}

// isa: 0 best, 1 avx512_vnni, 2 avx_vnni, 3 portable.
void BM_LinearInt8(benchmark::State& state) { linear_reduced<Int8Weights>(state); }
// isa: 0 best, 1 avx512_bf16, 2 portable.
void BM_LinearBf16(benchmark::State& state) { linear_reduced<Bf16Weights>(state); }

// N = 1 (decode) on every shape, cold and hot; N = 16..512 on qkv and mlp.up, cold.
void shapes(benchmark::internal::Benchmark* b, std::vector<int64_t> tail) {
  const int64_t CO[][2] = {{768, 768}, {768, 2304}, {768, 3072}, {3072, 768}, {768, 50304}};
  for (const auto& co : CO) {
    for (int64_t cold : {1, 0}) {
      std::vector<int64_t> a = {1, co[0], co[1], cold};
      a.insert(a.end(), tail.begin(), tail.end());
      b->Args(a);
    }
  }
  for (int64_t N : {4, 16, 64, 256, 512}) {
    for (int64_t oc : {2304, 3072}) {
      std::vector<int64_t> a = {N, 768, oc, 1};
      a.insert(a.end(), tail.begin(), tail.end());
      b->Args(a);
    }
  }
}

// The int8 and bf16 layers: every shape with the best kernel the CPU has (isa 0).
void reduced_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "C", "OC", "cold", "isa"})->Unit(benchmark::kMicrosecond)->UseRealTime();
  shapes(b, {0});
}

}  // namespace

BENCHMARK(BM_LinearF32)
    ->ArgNames({"N", "C", "OC", "cold", "inv"})
    ->Apply([](auto* b) { shapes(b, {1}); shapes(b, {0}); })
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK(BM_LinearInt8)
    ->Apply(reduced_shapes)
    ->Args({1, 768, 3072, 1, 2})->Args({1, 768, 3072, 1, 3})  // the other kernels, decode
    ->Args({64, 768, 3072, 1, 2})->Args({64, 768, 3072, 1, 3});

BENCHMARK(BM_LinearBf16)
    ->Apply(reduced_shapes)
    ->Args({1, 768, 3072, 1, 2})->Args({16, 768, 3072, 1, 2});  // the portable kernel

BENCHMARK_MAIN();
