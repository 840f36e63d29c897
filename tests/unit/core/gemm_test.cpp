// The GEMM entry point: the float (oneDNN) path against the double reference for every transpose
// combination, alpha/beta and leading dimensions; the batch-invariant path's bitwise guarantee.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/cpu/gemm.h"
#include "tests/support/random.h"

using namespace tessera::core::cpu;

namespace {

using tessera::testing_support::randn;

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST(Gemm, FloatMatchesDoubleReference) {
  const int64_t M = 37, N = 29, K = 45, pad = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
      auto A = randn<double>(static_cast<size_t>((ta ? K : M) * lda), 1);
      auto B = randn<double>(static_cast<size_t>((tb ? N : K) * ldb), 2);
      auto C = randn<double>(static_cast<size_t>(M * ldc), 3);
      auto Af = to_float(A), Bf = to_float(B), Cf = to_float(C);
      gemm<double>(ta, tb, M, N, K, 0.5, A.data(), lda, B.data(), ldb, 2.0, C.data(), ldc);
      gemm<float>(ta, tb, M, N, K, 0.5f, Af.data(), lda, Bf.data(), ldb, 2.0f, Cf.data(), ldc);
      // Independent check of one element, written out.
      double ref = 0;
      for (int64_t k = 0; k < K; ++k) {
        ref += (ta ? A[k * lda + 5] : A[5 * lda + k]) * (tb ? B[7 * ldb + k] : B[k * ldb + 7]);
      }
      const double c57 = randn<double>(static_cast<size_t>(M * ldc), 3)[5 * ldc + 7];
      EXPECT_NEAR(C[5 * ldc + 7], 0.5 * ref + 2.0 * c57, 1e-12);
      for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
          // fp32 dot products of 45 unit normals: error ~ sqrt(K) * 2^-24 * |terms| << 1e-4.
          ASSERT_NEAR(Cf[i * ldc + j], C[i * ldc + j], 1e-4) << ta << tb << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(Gemm, BetaZeroIgnoresGarbage) {
  std::vector<float> A{1, 2, 3, 4}, B{1, 0, 0, 1}, C(4, std::numeric_limits<float>::quiet_NaN());
  gemm<float>(false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{1, 2, 3, 4}));
}

TEST(Gemm, RowwiseIsBatchInvariantBitwise) {
  // K not a multiple of the 16 lanes: the tail is covered; K = 1203 also runs in chunks of 512 when
  // several row tiles share a pass (the last chunk with the tail). N = 64 + 32: a full column block
  // and a partial one.
  const int64_t N = 96;
  for (const int64_t K : {int64_t{203}, int64_t{1203}}) {
    SCOPED_TRACE("K=" + std::to_string(K));
    auto W = to_float(randn<double>(static_cast<size_t>(N * K), 4));
    auto X = to_float(randn<double>(static_cast<size_t>(64 * K), 5));
    std::vector<float> one(static_cast<size_t>(N));
    gemm_nt_rowwise<float>(1, N, K, X.data(), K, W.data(), K, one.data(), N, false);
    for (int64_t M : {2, 3, 17, 64}) {
      std::vector<float> many(static_cast<size_t>(M * N));
      gemm_nt_rowwise<float>(M, N, K, X.data(), K, W.data(), K, many.data(), N, false);
      EXPECT_EQ(std::memcmp(many.data(), one.data(), sizeof(float) * N), 0) << "M=" << M;
      // Every row, whether it was computed among other rows or alone, equals it computed alone.
      for (int64_t i = 0; i < M; ++i) {
        std::vector<float> alone(static_cast<size_t>(N));
        gemm_nt_rowwise<float>(1, N, K, X.data() + i * K, K, W.data(), K, alone.data(), N, false);
        EXPECT_EQ(std::memcmp(many.data() + i * N, alone.data(), sizeof(float) * N), 0) << "M=" << M << " row " << i;
      }
    }
    // Rows at an offset of one, which moves each of them to another tile.
    std::vector<float> big(static_cast<size_t>(63 * N)), shifted(static_cast<size_t>(62 * N));
    gemm_nt_rowwise<float>(63, N, K, X.data(), K, W.data(), K, big.data(), N, false);
    gemm_nt_rowwise<float>(62, N, K, X.data() + K, K, W.data(), K, shifted.data(), N, false);
    EXPECT_EQ(std::memcmp(big.data() + N, shifted.data(), sizeof(float) * 62 * N), 0);
    // Columns at an offset of one (weights from the second row on): each lands in another group of
    // four columns, or in the remainder computed one at a time.
    std::vector<float> cols(static_cast<size_t>(N - 1));
    gemm_nt_rowwise<float>(1, N - 1, K, X.data(), K, W.data() + K, K, cols.data(), N - 1, false);
    EXPECT_EQ(std::memcmp(cols.data(), one.data() + 1, sizeof(float) * (N - 1)), 0);
    // And it computes the product.
    auto Xd = std::vector<double>(X.begin(), X.end()), Wd = std::vector<double>(W.begin(), W.end());
    std::vector<double> ref(static_cast<size_t>(N));
    gemm<double>(false, true, 1, N, K, 1.0, Xd.data(), K, Wd.data(), K, 0.0, ref.data(), N);
    for (int64_t j = 0; j < N; ++j) EXPECT_NEAR(one[j], ref[j], 1e-4);
    // accumulate = true adds.
    std::vector<float> acc(static_cast<size_t>(N), 1.0f);
    gemm_nt_rowwise<float>(1, N, K, X.data(), K, W.data(), K, acc.data(), N, true);
    EXPECT_FLOAT_EQ(acc[3], one[3] + 1.0f);
  }
}

TEST(Gemm, BackendIsNamed) { EXPECT_NE(std::string(gemm_backend()).find("oneDNN"), std::string::npos); }
