#include "core/cpu/gemm_bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/cpu/bf16_round.h"
#include "core/cpu/quant.h"  // CacheAligned
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// (M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate); ldb = 0: B packed (PackedBf16)
using Shape = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, bool>;

struct Matmul {
  memory::desc a, b, c;
  dnnl::matmul prim;
  size_t scratchpad = 0;  // bytes of scratch one execution needs (the caller's, not oneDNN's own)
};

memory::desc plain(int64_t rows, int64_t cols, memory::data_type type, int64_t ld, bool transposed) {
  return memory::desc({rows, cols}, type, transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

// The packed layout of op(B) (K,N): the one oneDNN's matmul picks for it when free to choose.
memory::desc packed_layout(int64_t K, int64_t N);

// The primitive of C = alpha * A @ B (+ C when accumulate) on these layouts.
Matmul make_matmul(memory::desc a, memory::desc b, memory::desc c, float alpha, bool accumulate) {
  dnnl::primitive_attr attr;
  // Scratch from a buffer kept between calls: oneDNN's own is allocated on every execution, and a
  // step's fresh pages cost it 9% (page clearing) in bf16 training.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, cpu_engine());
  return {a, b, c, dnnl::matmul(pd), pd.scratchpad_desc().get_size()};
}

Matmul make_matmul(const Shape& s) {
  const auto [M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate] = s;
  return make_matmul(plain(M, K, memory::data_type::bf16, lda, trans_a),
                     ldb == 0 ? packed_layout(K, N) : plain(K, N, memory::data_type::bf16, ldb, trans_b),
                     plain(M, N, memory::data_type::f32, ldc, false), 1.0f, accumulate);
}

// A value per key, made on first use under one lock (a training step repeats a few dozen shapes).
template <typename Key, typename Value, typename Make>
const Value& cached(const Key& key, Make&& make) {
  static std::mutex mutex;
  static std::map<Key, Value> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make()).first;
  return it->second;
}

memory::desc packed_layout(int64_t K, int64_t N) {
  return cached<std::pair<int64_t, int64_t>, memory::desc>({K, N}, [&] {
    constexpr int64_t M = 64;  // any: the layout does not depend on M
    const memory::desc b({K, N}, memory::data_type::bf16, memory::format_tag::any);
    const dnnl::matmul::desc d(plain(M, K, memory::data_type::bf16, K, false), b,
                               plain(M, N, memory::data_type::f32, N, false));
    return dnnl::matmul::primitive_desc(d, cpu_engine()).weights_desc();
  });
}

void execute(const Matmul& m, const void* A, const void* B, float* C) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < m.scratchpad) scratch.resize(m.scratchpad);
  dnnl::stream stream(cpu_engine());
  memory a(m.a, cpu_engine(), const_cast<void*>(A));
  memory b(m.b, cpu_engine(), const_cast<void*>(B));
  memory c(m.c, cpu_engine(), C);
  memory pad(dnnl::memory::desc({static_cast<int64_t>(m.scratchpad)}, memory::data_type::u8, memory::dims{1}),
             cpu_engine(), scratch.data());
  m.prim.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}, {DNNL_ARG_SCRATCHPAD, pad}});
  stream.wait();
}

void run_matmul(const Shape& shape, const void* A, const void* B, float* C) {
  execute(cached<Shape, Matmul>(shape, [&] { return make_matmul(shape); }), A, B, C);
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const uint16_t* A, int64_t lda,
               const uint16_t* B, int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  TESSERA_CHECK(M > 0 && N > 0 && K > 0 && ldb > 0, "gemm_bf16: bad shape M={} N={} K={}", M, N, K);
  try {
    run_matmul({M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate}, A, B, C);
  } catch (const dnnl::error& e) {
    TESSERA_FAIL("oneDNN bf16 matmul failed for M={} N={} K={}: {}", M, N, K, e.what());
  }
}

void gemm_bf16_batched(const Bf16Batch& A, const uint16_t* a, const Bf16Batch& B, const uint16_t* b,
                       const std::array<int64_t, 5>& c_strides, float* c, float alpha, bool accumulate) {
  const auto& [da, db] = std::tie(A.dims, B.dims);
  TESSERA_CHECK(da[4] == db[3], "gemm_bf16_batched: A has {} columns, B {} rows", da[4], db[3]);
  memory::dims dc(5);
  for (int i = 0; i < 3; ++i) {
    TESSERA_CHECK(da[i] == db[i] || da[i] == 1 || db[i] == 1, "gemm_bf16_batched: batch {} of A and B differ", i);
    dc[i] = std::max(da[i], db[i]);
  }
  dc[3] = da[3];
  dc[4] = db[4];
  if (da[3] == 0 || db[4] == 0) return;
  using Key = std::tuple<std::array<int64_t, 5>, std::array<int64_t, 5>, std::array<int64_t, 5>,
                         std::array<int64_t, 5>, std::array<int64_t, 5>, float, bool>;
  const Key key{A.dims, A.strides, B.dims, B.strides, c_strides, alpha, accumulate};
  try {
    const Matmul& m = cached<Key, Matmul>(key, [&] {
      auto dims = [](const auto& v) { return memory::dims(v.begin(), v.end()); };
      return make_matmul(memory::desc(dims(da), memory::data_type::bf16, dims(A.strides)),
                         memory::desc(dims(db), memory::data_type::bf16, dims(B.strides)),
                         memory::desc(dc, memory::data_type::f32, dims(c_strides)), alpha, accumulate);
    });
    execute(m, a, b, c);
  } catch (const dnnl::error& e) {
    TESSERA_FAIL("oneDNN batched bf16 matmul failed for ({} x {}) @ ({} x {}): {}", da[3], da[4], db[3], db[4],
                 e.what());
  }
}

struct PackedBf16::Impl {
  int64_t K = 0, N = 0;
  std::vector<uint8_t, CacheAligned<uint8_t>> bytes;  // op(B) (K,N) in packed_layout(K, N); only grows
};

PackedBf16::PackedBf16() = default;
PackedBf16::~PackedBf16() = default;
PackedBf16::PackedBf16(PackedBf16&&) noexcept = default;
PackedBf16& PackedBf16::operator=(PackedBf16&&) noexcept = default;

int64_t PackedBf16::K() const { return impl_ ? impl_->K : 0; }
int64_t PackedBf16::N() const { return impl_ ? impl_->N : 0; }

void PackedBf16::pack(const uint16_t* B, int64_t ldb, bool trans_b, int64_t K, int64_t N) {
  TESSERA_CHECK(K > 0 && N > 0 && ldb >= (trans_b ? K : N), "PackedBf16: bad shape K={} N={} ldb={}", K, N, ldb);
  try {
    // A layer's input packed for its weight gradient changes shape from layer to layer: the
    // memory is kept and grown, never allocated (and its pages faulted in) again per call.
    if (!impl_) impl_ = std::make_unique<Impl>();
    const memory::desc to = packed_layout(K, N);
    if (impl_->bytes.size() < to.get_size()) impl_->bytes.resize(to.get_size());
    impl_->K = K;
    impl_->N = N;
    const memory::desc from = plain(K, N, memory::data_type::bf16, ldb, trans_b);
    using Key = std::tuple<int64_t, int64_t, int64_t, bool>;
    const dnnl::reorder& copy = cached<Key, dnnl::reorder>({K, N, ldb, trans_b}, [&] {
      return dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to));
    });
    memory src(from, cpu_engine(), const_cast<uint16_t*>(B)), dst(to, cpu_engine(), impl_->bytes.data());
    dnnl::stream stream(cpu_engine());
    copy.execute(stream, src, dst);
    stream.wait();
  } catch (const dnnl::error& e) {
    TESSERA_FAIL("oneDNN could not pack a ({}, {}) bf16 operand: {}", K, N, e.what());
  }
}

void PackedBf16::pack(const float* B, int64_t ldb, bool trans_b, int64_t K, int64_t N) {
  thread_local std::vector<uint16_t> rounded;
  const int64_t n = trans_b ? (N - 1) * ldb + K : (K - 1) * ldb + N;  // the span B covers
  if (rounded.size() < static_cast<size_t>(n)) rounded.resize(static_cast<size_t>(n));
  round_to_bf16(rounded.data(), B, n);
  pack(rounded.data(), ldb, trans_b, K, N);
}

void gemm_bf16(bool trans_a, int64_t M, const uint16_t* A, int64_t lda, const PackedBf16& B, bool accumulate,
               float* C, int64_t ldc) {
  TESSERA_CHECK(!B.empty(), "gemm_bf16: B was never packed");
  const int64_t N = B.N(), K = B.K();
  if (M == 0) return;
  TESSERA_CHECK(M > 0, "gemm_bf16: bad shape M={}", M);
  try {
    run_matmul({M, N, K, lda, 0, ldc, trans_a, false, accumulate}, A, B.impl_->bytes.data(), C);
  } catch (const dnnl::error& e) {
    TESSERA_FAIL("oneDNN bf16 matmul failed for M={} N={} K={} (packed B): {}", M, N, K, e.what());
  }
}

bool bf16_gemm_native() {
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (isa & bf16) == bf16;
}

const char* bf16_gemm_isa() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni (no bf16 units: emulated)";
    case dnnl_cpu_isa_avx512_core: return "avx512_core (no bf16 units: emulated)";
    case dnnl_cpu_isa_avx2: return "avx2 (no bf16 units: emulated)";
    default: return "no bf16 units: emulated";
  }
}

double bf16_gemm_peak_gflops(int64_t n, double min_seconds) {
  std::vector<uint16_t> a(static_cast<size_t>(n * n), 0x3f00), b(a.size(), 0x3e80);  // 0.5, 0.25
  std::vector<float> c(a.size());
  PackedBf16 packed;  // as training packs its weights: the products' own copies of B are not timed
  packed.pack(b.data(), n, false, n, n);
  gemm_bf16(false, n, a.data(), n, packed, false, c.data(), n);  // warm-up, primitive created
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  double best = 0.0, total = 0.0;
  while (total < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm_bf16(false, n, a.data(), n, packed, false, c.data(), n);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total += dt;
    best = std::max(best, flops / dt * 1e-9);
  }
  return best;
}

}  // namespace tessera::core::cpu
