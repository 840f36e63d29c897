#pragma once
// The one GEMM entry point every CPU op uses. Row-major, BLAS-style transposes:
//   C (M,N) = alpha * op(A) (M,K) @ op(B) (K,N) + beta * C
// where op(A) is A (M,K) with leading dimension lda, or A^T for A stored (K,M) when trans_a.
//
// float runs oneDNN's sgemm (dnnl_sgemm): it picks its kernels from the CPU's ISA at run time
// (AVX-512/AMX here) with no environment variables; large calls are split over the OpenMP
// threads (one single-threaded oneDNN call per part of C), small ones threaded by oneDNN itself.
// double runs a plain reference loop (gradient checks and oracles only).
//
// Batch invariance: BLAS kernels, oneDNN's included, pick their blocking from M, so one row's
// result may change (in the last bits) with the number of rows in the call. Inference paths that
// promise batch-invariant outputs use gemm_nt_rowwise instead.
#include <cstdint>

namespace tessera::core::cpu {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// C (M,N) = A (M,K) @ B^T with B stored (N,K), + C when accumulate. Each output element is one
// dot product over K in a fixed order that does not depend on M or on the other rows, so a row's
// result is bitwise identical whatever batch it is computed in (for a given binary and CPU).
template <typename T>
void gemm_nt_rowwise(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                     int64_t ldb, T* C, int64_t ldc, bool accumulate);
// The same on the calling thread alone, with no OpenMP region (for many small products, e.g. a
// decode row's attention scores page by page): the same bits.
template <typename T>
void gemm_nt_rowwise_serial(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                            int64_t ldb, T* C, int64_t ldc, bool accumulate);

// The sgemm peak of this process: the best GFLOP/s of a square n x n x n float GEMM over
// repetitions lasting at least min_seconds, with the current OpenMP thread count. Benchmarks
// report kernels as a fraction of it (absolute figures on shared machines are noisy).
double sgemm_peak_gflops(int64_t n = 2048, double min_seconds = 0.5);

// The name of the backend the float path uses and the ISA it detected, for logs and benchmarks.
const char* gemm_backend();

}  // namespace tessera::core::cpu
