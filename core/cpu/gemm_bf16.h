#pragma once
// bf16 GEMM with fp32 accumulation, the products of bf16 training (docs/training.md, Precision):
//   C (M,N) f32 = op(A) (M,K) bf16 @ op(B) (K,N) bf16 (+ C when accumulate)
// op(A) is A stored (M,K) row-major, or A^T for A stored (K,M) when trans_a; op(B) is B stored
// (K,N), or B^T for B stored (N,K) when trans_b. Row-major, leading dimensions as in gemm.h. Runs oneDNN's matmul primitive (bf16 source and weights, f32
// destination, a sum post-op to accumulate), threaded by oneDNN over the OpenMP threads; one
// primitive per shape, created once and reused. bf16 values are uint16_t bit patterns (the upper
// half of an IEEE binary32).
//
// ISA: oneDNN picks its kernels at run time. With bf16 dot-product units (AVX512_BF16 or AMX;
// bf16_gemm_native) each product pair is computed by the hardware; without them oneDNN emulates
// the same products on AVX-512 or plain loops, correct but slower than the f32 GEMM.
#include <array>
#include <cstdint>
#include <memory>

namespace tessera::core::cpu {

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const uint16_t* A, int64_t lda,
               const uint16_t* B, int64_t ldb, bool accumulate, float* C, int64_t ldc);

// op(B) (K,N) in bf16, packed once into the blocked layout oneDNN's matmul reads without copying
// it (pairs of K interleaved for the dot-product units; the layout depends on K, N and the ISA,
// not on M). An unpacked B is copied into that layout inside every product, for every block of
// rows: packing a weight once per optimizer step made the training products 10-25% faster.
class PackedBf16 {
 public:
  PackedBf16();
  ~PackedBf16();
  PackedBf16(PackedBf16&&) noexcept;
  PackedBf16& operator=(PackedBf16&&) noexcept;

  // op(B) from bf16 B (exact: the bits are only moved), or from f32 B rounded as round_to_bf16
  // rounds; ldb and trans_b as in gemm_bf16. Repacking reuses the memory (grown when too small).
  void pack(const uint16_t* B, int64_t ldb, bool trans_b, int64_t K, int64_t N);
  void pack(const float* B, int64_t ldb, bool trans_b, int64_t K, int64_t N);

  bool empty() const { return impl_ == nullptr; }
  int64_t K() const;
  int64_t N() const;

 private:
  friend void gemm_bf16(bool, int64_t, const uint16_t*, int64_t, const PackedBf16&, bool, float*, int64_t);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// C (M,N) f32 = op(A) (M,K) @ B (+ C when accumulate), B packed with K = B.K(), N = B.N().
void gemm_bf16(bool trans_a, int64_t M, const uint16_t* A, int64_t lda, const PackedBf16& B, bool accumulate,
               float* C, int64_t ldc);

// A bf16 matrix batched over three leading dimensions, read in place with any element strides:
// dims {b0, b1, b2, rows, cols}. A batch dimension of 1 broadcasts against the other operand's.
struct Bf16Batch {
  std::array<int64_t, 5> dims, strides;
};

// Batched products in one call, the shape of attention's per-head products read in place from the
// (N, heads * D) activations (attention_bf16.h):
//   C[b] (M,N) f32 = alpha * A[b] (M,K) @ B[b] (K,N) (+ C[b] when accumulate)
// for every batch index b of the broadcast batch dimensions; C's strides are c_strides.
void gemm_bf16_batched(const Bf16Batch& A, const uint16_t* a, const Bf16Batch& B, const uint16_t* b,
                       const std::array<int64_t, 5>& c_strides, float* c, float alpha, bool accumulate);

// Whether this CPU has bf16 dot-product units oneDNN uses, and their oneDNN ISA name.
bool bf16_gemm_native();
const char* bf16_gemm_isa();

// The bf16 GEMM peak of this process: the best GFLOP/s of a square n x n x n product over
// repetitions lasting at least min_seconds (as sgemm_peak_gflops, gemm.h), B packed once.
double bf16_gemm_peak_gflops(int64_t n = 2048, double min_seconds = 0.5);

}  // namespace tessera::core::cpu
