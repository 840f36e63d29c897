// The bf16 products of bf16 training against f64 references, with the tolerances the arithmetic
// guarantees:
//  - rounding to bf16 equals core::bf16's conversion bit for bit (NaN, infinities, ties, denormals);
//  - gemm_bf16 on bf16 inputs is their exact product up to f32 accumulation:
//      |C - ref| <= K * 2^-24 * sum_k |a_k b_k|  (+ |C0| * 2^-24 when accumulating);
//  - the bf16 linear layer against the f64 product of the unrounded f32 operands: each operand's
//    rounding is within 2^-9 relative, so each product within 2^-8 (+2^-18):
//      |out - ref| <= (2^-8 * 1.01 + K * 2^-24) * sum_k |a_k b_k|.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/cpu/bf16_round.h"
#include "core/cpu/gemm_bf16.h"
#include "core/cpu/linear.h"
#include "core/dtype.h"
#include "tests/support/random.h"

using namespace tessera::core;
using namespace tessera::core::cpu;

namespace {

using tessera::testing_support::randn;

std::vector<uint16_t> rounded(const std::vector<float>& x) {
  std::vector<uint16_t> out(x.size());
  round_to_bf16(out.data(), x.data(), static_cast<int64_t>(x.size()));
  return out;
}

double value(uint16_t b) {
  bf16 v;
  v.bits = b;
  return static_cast<double>(static_cast<float>(v));
}

constexpr double kU24 = 1.0 / (1 << 24);

}  // namespace

TEST(GemmBf16, RoundingEqualsScalarConversionBitForBit) {
  std::vector<float> x = randn(100003, 1, 3.0f);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
                            1.00390625f /* 1 + 2^-8: a tie, rounds to even 1 */, 1.01171875f /* tie, rounds up */,
                            std::numeric_limits<float>::max()};
  x.insert(x.end(), std::begin(specials), std::end(specials));
  const std::vector<uint16_t> got = rounded(x);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(got[i], bf16(x[i]).bits) << "x = " << x[i];
  EXPECT_EQ(got[x.size() - 3], 0x3f80);  // 1 + 2^-8 -> 1.0
  EXPECT_EQ(got[x.size() - 2], 0x3f82);  // 1 + 3 * 2^-8 -> 1 + 2^-6
  EXPECT_TRUE(std::isnan(value(got[x.size() - 5])));
}

// One product C (M,N) (+)= op(A) op(B) of bf16 operands with padded leading dimensions; B also
// given as the f32 values it was rounded from.
struct Operands {
  bool trans_a, trans_b, accumulate;
  std::vector<uint16_t> A, B;
  std::vector<float> Bf;
  int64_t lda, ldb, ldc;
};
using Product = std::function<void(const Operands&, std::vector<float>& C)>;

// Every (trans_a, trans_b, accumulate) through `product`, against the f64 product of the bf16
// values: within K * 2^-24 * sum |a_k b_k| (+ |C0| * 2^-24 when accumulating).
void expect_exact_products(int64_t M, int64_t N, int64_t K, uint32_t seed, const Product& product) {
  const int64_t pad = 5;
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (bool accumulate : {false, true}) {
        Operands o{trans_a, trans_b, accumulate, {}, {}, {}, (trans_a ? M : K) + pad, (trans_b ? K : N) + pad, N + pad};
        o.A = rounded(randn(static_cast<size_t>((trans_a ? K : M) * o.lda), seed));
        o.Bf = randn(static_cast<size_t>((trans_b ? N : K) * o.ldb), seed + 1);
        o.B = rounded(o.Bf);
        const std::vector<float> C0 = randn(static_cast<size_t>(M * o.ldc), seed + 2);
        std::vector<float> C = C0;
        product(o, C);
        for (int64_t i = 0; i < M; ++i) {
          for (int64_t j = 0; j < N; ++j) {
            double ref = accumulate ? C0[i * o.ldc + j] : 0.0, abs_sum = 0;
            for (int64_t k = 0; k < K; ++k) {
              const double p = value(trans_a ? o.A[k * o.lda + i] : o.A[i * o.lda + k]) *
                               value(trans_b ? o.B[j * o.ldb + k] : o.B[k * o.ldb + j]);
              ref += p;
              abs_sum += std::fabs(p);
            }
            const double tol = static_cast<double>(K) * kU24 * abs_sum +
                               (accumulate ? std::fabs(C0[i * o.ldc + j]) * kU24 : 0.0);
            ASSERT_NEAR(C[i * o.ldc + j], ref, tol) << trans_a << trans_b << accumulate << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

TEST(GemmBf16, ExactProductOfBf16InputsUpToF32Accumulation) {
  const int64_t M = 45, N = 70, K = 300;
  expect_exact_products(M, N, K, 3, [&](const Operands& o, std::vector<float>& C) {
    gemm_bf16(o.trans_a, o.trans_b, M, N, K, o.A.data(), o.lda, o.B.data(), o.ldb, o.accumulate, C.data(), o.ldc);
  });
}

// A packed B gives the exact product up to f32 accumulation, as the unpacked one (the sums may be
// blocked differently); packed from f32 it is the product of B rounded as round_to_bf16 rounds,
// bit for bit; repacking replaces the values.
TEST(GemmBf16, PackedOperandGivesTheExactProduct) {
  const int64_t M = 37, N = 70, K = 300;
  expect_exact_products(M, N, K, 13, [&](const Operands& o, std::vector<float>& C) {
    std::vector<float> from_f32 = C;
    PackedBf16 packed;
    packed.pack(rounded(randn(o.B.size(), 16)).data(), o.ldb, o.trans_b, K, N);
    packed.pack(o.B.data(), o.ldb, o.trans_b, K, N);  // repacked over other values
    ASSERT_EQ(packed.K(), K);
    ASSERT_EQ(packed.N(), N);
    gemm_bf16(o.trans_a, M, o.A.data(), o.lda, packed, o.accumulate, C.data(), o.ldc);
    packed.pack(o.Bf.data(), o.ldb, o.trans_b, K, N);
    gemm_bf16(o.trans_a, M, o.A.data(), o.lda, packed, o.accumulate, from_f32.data(), o.ldc);
    for (size_t i = 0; i < C.size(); ++i) ASSERT_EQ(from_f32[i], C[i]) << i;
  });
}

TEST(GemmBf16, UnpackedOperandIsAClearError) {
  PackedBf16 never;
  std::vector<uint16_t> a(4, 0x3f80);
  std::vector<float> c(4);
  EXPECT_TRUE(never.empty());
  EXPECT_THROW(gemm_bf16(false, 2, a.data(), 2, never, false, c.data(), 2), tessera::Error);
}

// The bf16 linear layer's three products against f64 on the f32 operands.
TEST(GemmBf16, LinearLayerWithinBf16RoundingOfTheF32Products) {
  const int64_t N = 33, C = 96, OC = 80;
  const auto x = randn(static_cast<size_t>(N * C), 6), w = randn(static_cast<size_t>(OC * C), 7, 0.1f);
  const auto bias = randn(static_cast<size_t>(OC), 8), res = randn(static_cast<size_t>(N * OC), 9);
  const auto dout = randn(static_cast<size_t>(N * OC), 10);
  PackedBf16 wt, wp;  // W^T for the forward, W for the input gradient
  wt.pack(w.data(), C, /*trans_b=*/true, C, OC);
  wp.pack(w.data(), C, /*trans_b=*/false, OC, C);
  const std::vector<uint16_t> xb = rounded(x), dob = rounded(dout);
  const double rel = std::ldexp(1.01, -8);

  std::vector<float> out(static_cast<size_t>(N * OC));
  linear_forward_bf16(out.data(), xb.data(), wt, bias.data(), res.data(), N, C, OC);
  EXPECT_THROW(linear_forward_bf16(out.data(), xb.data(), wp, nullptr, nullptr, N, C, OC), tessera::Error)
      << "a weight packed for the input gradient is not the forward's";
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < OC; ++o) {
      double ref = static_cast<double>(res[n * OC + o]) + bias[o], abs_sum = 0;
      for (int64_t k = 0; k < C; ++k) {
        ref += static_cast<double>(x[n * C + k]) * w[o * C + k];
        abs_sum += std::fabs(static_cast<double>(x[n * C + k]) * w[o * C + k]);
      }
      ASSERT_NEAR(out[n * OC + o], ref, (rel + C * kU24) * abs_sum + 4 * kU24 * std::fabs(ref)) << n << "," << o;
    }
  }

  // dinp added to ones, dweight added to twos.
  std::vector<float> dinp(static_cast<size_t>(N * C), 1.0f), dw(static_cast<size_t>(OC * C), 2.0f);
  linear_backward_bf16(dinp.data(), dw.data(), dob.data(), xb.data(), wp, N, C, OC);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      double ref = 1.0, abs_sum = 0;
      for (int64_t o = 0; o < OC; ++o) {
        ref += static_cast<double>(dout[n * OC + o]) * w[o * C + c];
        abs_sum += std::fabs(static_cast<double>(dout[n * OC + o]) * w[o * C + c]);
      }
      ASSERT_NEAR(dinp[n * C + c], ref, (rel + OC * kU24) * abs_sum + 4 * kU24) << n << "," << c;
    }
  }
  for (int64_t o = 0; o < OC; ++o) {
    for (int64_t c = 0; c < C; ++c) {
      double ref = 2.0, abs_sum = 0;
      for (int64_t n = 0; n < N; ++n) {
        ref += static_cast<double>(dout[n * OC + o]) * x[n * C + c];
        abs_sum += std::fabs(static_cast<double>(dout[n * OC + o]) * x[n * C + c]);
      }
      ASSERT_NEAR(dw[o * C + c], ref, (rel + N * kU24) * abs_sum + 8 * kU24) << o << "," << c;
    }
  }
}

TEST(GemmBf16, PeakIsMeasured) {
  EXPECT_GT(bf16_gemm_peak_gflops(256, 0.01), 0.0);
  EXPECT_NE(std::string(bf16_gemm_isa()), "");
}
