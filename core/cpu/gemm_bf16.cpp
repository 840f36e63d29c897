#include "core/cpu/gemm_bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/error.h"

namespace tessera::core::cpu {

namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// (M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate)
using Shape = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, bool>;

struct Matmul {
  memory::desc a, b, c;
  dnnl::matmul prim;
  size_t scratchpad = 0;  // bytes of scratch one execution needs (the caller's, not oneDNN's own)
};

Matmul make_matmul(const Shape& s) {
  const auto [M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate] = s;
  Matmul m;
  m.a = memory::desc({M, K}, memory::data_type::bf16, trans_a ? memory::dims{1, lda} : memory::dims{lda, 1});
  m.b = memory::desc({K, N}, memory::data_type::bf16, trans_b ? memory::dims{1, ldb} : memory::dims{ldb, 1});
  m.c = memory::desc({M, N}, memory::data_type::f32, memory::dims{ldc, 1});
  dnnl::primitive_attr attr;
  // Scratch from a buffer kept between calls: oneDNN's own is allocated on every execution, and a
  // step's fresh pages cost it 9% (page clearing) in bf16 training.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(m.a, m.b, m.c), attr, cpu_engine());
  m.prim = dnnl::matmul(pd);
  m.scratchpad = pd.scratchpad_desc().get_size();
  return m;
}

// The primitive of a shape, created on first use (a training step repeats a few dozen shapes).
const Matmul& matmul_for(const Shape& s) {
  static std::mutex mutex;
  static std::map<Shape, Matmul> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(s);
  if (it == cache.end()) it = cache.emplace(s, make_matmul(s)).first;
  return it->second;
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const uint16_t* A, int64_t lda,
               const uint16_t* B, int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  TESSERA_CHECK(M > 0 && N > 0 && K > 0, "gemm_bf16: bad shape M={} N={} K={}", M, N, K);
  try {
    const Matmul& m = matmul_for({M, N, K, lda, ldb, ldc, trans_a, trans_b, accumulate});
    thread_local std::vector<uint8_t> scratch;
    if (scratch.size() < m.scratchpad) scratch.resize(m.scratchpad);
    dnnl::stream stream(cpu_engine());
    memory a(m.a, cpu_engine(), const_cast<uint16_t*>(A));
    memory b(m.b, cpu_engine(), const_cast<uint16_t*>(B));
    memory c(m.c, cpu_engine(), C);
    memory pad(dnnl::memory::desc({static_cast<int64_t>(m.scratchpad)}, memory::data_type::u8, memory::dims{1}),
               cpu_engine(), scratch.data());
    m.prim.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}, {DNNL_ARG_SCRATCHPAD, pad}});
    stream.wait();
  } catch (const dnnl::error& e) {
    TESSERA_FAIL("oneDNN bf16 matmul failed for M={} N={} K={}: {}", M, N, K, e.what());
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
  gemm_bf16(false, false, n, n, n, a.data(), n, b.data(), n, false, c.data(), n);  // warm-up, primitive created
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  double best = 0.0, total = 0.0;
  while (total < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm_bf16(false, false, n, n, n, a.data(), n, b.data(), n, false, c.data(), n);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total += dt;
    best = std::max(best, flops / dt * 1e-9);
  }
  return best;
}

}  // namespace tessera::core::cpu
