#include "core/cpu/gemm.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <functional>
#include <type_traits>
#include <chrono>
#include <cstdint>
#include <vector>

#include "core/cpu/parallel.h"
#include "core/cpu/rowwise_tiles.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                                      lda, B, ldb, beta, C, ldc);
  TESSERA_CHECK(st == dnnl_success, "dnnl_sgemm failed (status {}) for M={} N={} K={}",
                static_cast<int>(st), M, N, K);
}

// Where part p of n elements split in `parts` begins, at a multiple of 64 (kernel blocking).
int64_t part_begin(int64_t n, int64_t p, int64_t parts) { return std::min(n, (n * p / parts + 63) / 64 * 64); }

// Rows or columns of C per thread, below which oneDNN threads the call itself.
constexpr int64_t kMinPartSide = 128;

}  // namespace

// The threads split C (M,N) along its longer side and each runs oneDNN's single-threaded kernel on
// its part (oneDNN does not nest threads inside a parallel region). oneDNN's own 2-thread split of
// the step's shapes reached 0.5-0.95 of twice its 1-thread speed (the (256, 1024, 2048) TN weight
// gradient of mlp.down ran slower than on one thread), its 1-thread kernels 0.9-1.0 of the peak.
template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  if (M == 0 || N == 0) return;
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || std::max(M, N) < kMinPartSide * threads) {
    sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool split_rows = M >= N;
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    const int64_t p = omp_get_thread_num(), parts = omp_get_num_threads();
    const int64_t n = split_rows ? M : N, b = part_begin(n, p, parts), e = part_begin(n, p + 1, parts);
    if (b < e && split_rows) {
      sgemm(trans_a, trans_b, e - b, N, K, alpha, trans_a ? A + b : A + b * lda, lda, B, ldb, beta,
            C + b * ldc, ldc);
    } else if (b < e) {
      sgemm(trans_a, trans_b, M, e - b, K, alpha, A, lda, trans_b ? B + b * ldb : B + b, ldb, beta,
            C + b, ldc);
    }
  }
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                  double* C, int64_t ldc) {
#pragma omp parallel for if (parallel_worth(M * N * K))
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const double b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      C[i * ldc + j] = alpha * acc + (beta == 0.0 ? 0.0 : beta * C[i * ldc + j]);
    }
  }
}

// A dot product with 16 independent partial sums combined in a fixed tree: the compiler keeps the
// order (no -ffast-math), vectorises the lanes, and the result depends only on the two vectors.
// Cloned per ISA and chosen at load time, so the build needs no -march flag.
template <typename T>
TESSERA_SIMD_CLONES static T dot_fixed_order(const T* a, const T* b, int64_t K) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += a[k + l] * b[k + l];
  }
  for (int l = 0; k < K; ++k, ++l) acc[l] += a[k] * b[k];
  return reduce_lanes(acc, std::plus<T>());
}

// Dot products of one vector a (K) with four vectors b (4,K), rows ldb apart, each summed exactly
// as dot_fixed_order sums it (the same lanes, the same tree): four independent chains of additions
// instead of one, and each load of a serves four products. Cloned per ISA.
template <typename T>
TESSERA_SIMD_CLONES static void dot_fixed_order_x4(T* out, const T* a, const T* b, int64_t ldb, int64_t K) {
  constexpr int kLanes = 16;
  T acc0[kLanes] = {}, acc1[kLanes] = {}, acc2[kLanes] = {}, acc3[kLanes] = {};
  const T *b0 = b, *b1 = b + ldb, *b2 = b + 2 * ldb, *b3 = b + 3 * ldb;
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const T x = a[k + l];
      acc0[l] += x * b0[k + l];
      acc1[l] += x * b1[k + l];
      acc2[l] += x * b2[k + l];
      acc3[l] += x * b3[k + l];
    }
  }
  for (int l = 0; k < K; ++k, ++l) {
    acc0[l] += a[k] * b0[k];
    acc1[l] += a[k] * b1[k];
    acc2[l] += a[k] * b2[k];
    acc3[l] += a[k] * b3[k];
  }
  out[0] = reduce_lanes(acc0, std::plus<T>());
  out[1] = reduce_lanes(acc1, std::plus<T>());
  out[2] = reduce_lanes(acc2, std::plus<T>());
  out[3] = reduce_lanes(acc3, std::plus<T>());
}

// Cache blocking that leaves every product's order alone: threads split the columns (weights) in
// blocks of kColBlock rows of B, so each weight row is read from memory by one thread once.
constexpr int64_t kColBlock = 64;

// Several row tiles run a long K in chunks of kChunk: a chunk of the row tile's rows of A (16 x 2 KB)
// and of four weight rows stay in L1 while every tile of the block passes over them; A's rows sit at
// a stride that is no multiple of 4 KB (padded_rows). At K = 3072 (GPT-2's mlp.down) whole rows 12 KB
// apart fell into the same L1 sets and left both operands in L2 (one core: 64-84 GFLOP/s, chunked
// 100-120).
constexpr int64_t kChunk = 512;

constexpr int64_t kRowTile = 16;  // rows of A per pass over a block of B

static bool long_k(int64_t M, int64_t K) { return M > rowwise::kTileRows && K > 2 * kChunk && rowwise::have_avx512f(); }

// A (M, K) copied to 64-byte aligned rows whose stride is 33 cache lines past a multiple of 64 (4 KB):
// the 2 KB chunks of 16 rows then spread over L1's 64 sets evenly. In a buffer of the calling
// thread's, kept between calls; lda becomes the new stride.
static const float* padded_rows(int64_t M, int64_t K, const float* A, int64_t& lda) {
  thread_local std::vector<float> rows;
  const int64_t lines = (K + 15) / 16, ld = 16 * (lines + (33 - lines % 64 + 64) % 64);
  if (static_cast<int64_t>(rows.size()) < M * ld + 16) rows.resize(static_cast<size_t>(M * ld + 16));
  float* base = rows.data() + (64 - reinterpret_cast<uintptr_t>(rows.data()) % 64) % 64 / sizeof(float);
  for (int64_t i = 0; i < M; ++i) std::copy(A + i * lda, A + i * lda + K, base + i * ld);
  lda = ld;
  return base;
}

// Rows [i0, i1) (at most kRowTile) x columns [j0, j1) (at most kColBlock) of C = A @ B^T on AVX-512
// 4 x 4 register tiles: the bits of rowwise_block's loops. store(i, j, value) writes C.
template <typename Store>
static void rowwise_tiles_avx512(int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t K, const float* A,
                                 int64_t lda, const float* B, int64_t ldb, const Store& store) {
  using rowwise::kTileCols, rowwise::kTileRows;
  // The lanes of every tile between chunks: (j1 - j0) / 4 x (i1 - i0) / 4 tiles of 16 sums x 16.
  alignas(64) float lanes[kColBlock / kTileCols][kRowTile / kTileRows][kTileRows * kTileCols * 16];
  const int64_t chunk = long_k(i1 - i0, K) ? kChunk : K;  // one row tile: whole rows stream best
  for (int64_t k0 = 0; k0 < K; k0 += chunk) {
    const int64_t k1 = std::min(K, k0 + chunk);
    for (int64_t j = j0; j < j1; j += kTileCols) {
      const int64_t nj = std::min(kTileCols, j1 - j);
      for (int64_t i = i0; i < i1; i += kTileRows) {
        const int64_t ni = std::min(kTileRows, i1 - i);
        float d[kTileRows * kTileCols];
        rowwise::tile_f32_avx512(d, kTileCols, lanes[(j - j0) / kTileCols][(i - i0) / kTileRows], A + i * lda + k0,
                                 lda, B + j * ldb + k0, ldb, ni, nj, k1 - k0, k0 == 0, k1 == K);
        if (k1 < K) continue;
        for (int64_t r = 0; r < ni; ++r) {
          for (int64_t c = 0; c < nj; ++c) store(i + r, j + c, d[r * kTileCols + c]);
        }
      }
    }
  }
}

// Columns [j0, j1) of C = A @ B^T (see gemm_nt_rowwise), on the calling thread: tiles of kRowTile
// rows of A pass over the block of B's rows while it stays in cache, four weight rows at a time.
template <typename T>
static void rowwise_block(int64_t M, int64_t j0, int64_t j1, int64_t K, const T* A, int64_t lda, const T* B,
                          int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  auto store = [&](int64_t i, int64_t j, T d) { C[i * ldc + j] = accumulate ? C[i * ldc + j] + d : d; };
  for (int64_t i0 = 0; i0 < M; i0 += kRowTile) {
    const int64_t i1 = std::min(M, i0 + kRowTile);
    if constexpr (std::is_same_v<T, float>) {
      if (rowwise::have_avx512f()) {
        rowwise_tiles_avx512(i0, i1, j0, j1, K, A, lda, B, ldb, store);
        continue;
      }
    }
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      for (int64_t i = i0; i < i1; ++i) {
        T d[4];
        dot_fixed_order_x4(d, A + i * lda, B + j * ldb, ldb, K);
        for (int r = 0; r < 4; ++r) store(i, j + r, d[r]);
      }
    }
    for (; j < j1; ++j) {
      for (int64_t i = i0; i < i1; ++i) store(i, j, dot_fixed_order(A + i * lda, B + j * ldb, K));
    }
  }
}

template <typename T>
void gemm_nt_rowwise(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                     int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (long_k(M, K)) A = padded_rows(M, K, A, lda);
  }
#pragma omp parallel for schedule(static) if (parallel_worth(M * N * K))
  for (int64_t j0 = 0; j0 < N; j0 += kColBlock) {
    rowwise_block(M, j0, std::min(N, j0 + kColBlock), K, A, lda, B, ldb, C, ldc, accumulate);
  }
}

template <typename T>
void gemm_nt_rowwise_serial(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                            int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (long_k(M, K)) A = padded_rows(M, K, A, lda);
  }
  for (int64_t j0 = 0; j0 < N; j0 += kColBlock) {
    rowwise_block(M, j0, std::min(N, j0 + kColBlock), K, A, lda, B, ldb, C, ldc, accumulate);
  }
}

template void gemm_nt_rowwise<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                                     int64_t, float*, int64_t, bool);
template void gemm_nt_rowwise<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                      const double*, int64_t, double*, int64_t, bool);
template void gemm_nt_rowwise_serial<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                                            int64_t, float*, int64_t, bool);
template void gemm_nt_rowwise_serial<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                                             int64_t, double*, int64_t, bool);

double sgemm_peak_gflops(int64_t n, double min_seconds) {
  std::vector<float> a(static_cast<size_t>(n * n), 0.5f), b(a.size(), 0.25f), c(a.size());
  gemm<float>(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);  // warm-up
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  double best = 0.0, total = 0.0;
  while (total < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm<float>(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total += dt;
    best = std::max(best, flops / dt * 1e-9);
  }
  return best;
}

const char* gemm_backend() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "oneDNN sgemm (avx512_core_amx)";
    case dnnl_cpu_isa_avx512_core_bf16: return "oneDNN sgemm (avx512_core_bf16)";
    case dnnl_cpu_isa_avx512_core_vnni: return "oneDNN sgemm (avx512_core_vnni)";
    case dnnl_cpu_isa_avx512_core: return "oneDNN sgemm (avx512_core)";
    case dnnl_cpu_isa_avx2: return "oneDNN sgemm (avx2)";
    default: return "oneDNN sgemm";
  }
}

}  // namespace tessera::core::cpu
