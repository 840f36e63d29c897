// The bf16 linear layer and the AVX-512 register tiles of the batch-invariant f32 path: known
// roundings, the AVX512_BF16 kernel bit for bit against the portable one, rows the same alone and
// in batches of any size, and the f32 tiles bit for bit against the documented lane order.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/linear_bf16.h"
#include "core/cpu/rowwise_tiles.h"
#include "core/cpu/vec_math.h"
#include "tests/support/random.h"

namespace tessera::core::cpu {
namespace {

using tessera::testing_support::randn;

TEST(Bf16, RoundsHalfToEvenAndFlushesDenormals) {
  EXPECT_EQ(to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(to_bf16(-2.0f), 0xC000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to the even one (1); 1 + 3 * 2^-8 up to 1 + 2^-6.
  EXPECT_EQ(to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  EXPECT_EQ(to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_EQ(to_bf16(FLT_MIN / 2), 0x0000);
  EXPECT_EQ(to_bf16(-FLT_MIN / 2), 0x8000);
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(NAN))));
  EXPECT_EQ(from_bf16(to_bf16(3.140625f)), 3.140625f);  // exactly representable
}

// out (N, OC) of the bf16 layer with the given kernel.
std::vector<float> run(const Bf16Weight& w, const std::vector<float>& x, const std::vector<float>& bias,
                       const std::vector<float>& res, int64_t N, Bf16Isa isa) {
  std::vector<float> out(static_cast<size_t>(N * w.OC));
  linear_bf16_forward(out.data(), x.data(), w, bias.data(), res.data(), N, isa);
  return out;
}

TEST(Bf16, KernelsAgreeBitwiseAndRowsDoNotDependOnTheBatch) {
  const int64_t C = 100, OC = 71, N = 9;  // C not a multiple of 32, OC not of the tile
  const auto wf = randn(static_cast<size_t>(OC * C), 1, 0.05f), x = randn(static_cast<size_t>(N * C), 2);
  const auto bias = randn(static_cast<size_t>(OC), 3), res = randn(static_cast<size_t>(N * OC), 4);
  const Bf16Weight w = to_bf16_weight(wf.data(), OC, C);
  const auto portable = run(w, x, bias, res, N, Bf16Isa::portable);
  if (bf16_isa_supported(Bf16Isa::avx512_bf16)) {
    const auto fast = run(w, x, bias, res, N, Bf16Isa::avx512_bf16);
    EXPECT_EQ(std::memcmp(fast.data(), portable.data(), fast.size() * sizeof(float)), 0);
  }
  double worst = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < OC; ++o) {  // against f32 on the bf16 weights: activation rounding only
      double ref = bias[o] + res[n * OC + o];
      for (int64_t k = 0; k < C; ++k) ref += double(x[n * C + k]) * from_bf16(w.values[o * w.Cp + k]);
      worst = std::max(worst, std::abs(ref - portable[n * OC + o]));
    }
  }
  EXPECT_LT(worst, 0.02);
  EXPECT_GT(worst, 0.0);
  for (int64_t n = 0; n < N; ++n) {  // each row alone, with the best kernel
    const std::vector<float> row(x.begin() + n * C, x.begin() + (n + 1) * C), rres(res.begin() + n * OC,
                                                                                    res.begin() + (n + 1) * OC);
    const auto alone = run(w, row, bias, rres, 1, Bf16Isa::best);
    EXPECT_EQ(std::memcmp(alone.data(), portable.data() + n * OC, alone.size() * sizeof(float)), 0) << "row " << n;
  }
}

TEST(RowwiseTiles, F32TilesSumInTheOneRowOrder) {
  if (!rowwise::have_avx512f()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t K = 70, N = 7, M = 6;  // K: four 16-wide steps and a tail of 6
  const auto a = randn(static_cast<size_t>(M * K), 5), b = randn(static_cast<size_t>(N * K), 6);
  std::vector<float> got(static_cast<size_t>(M * N));
  gemm_nt_rowwise<float>(M, N, K, a.data(), K, b.data(), K, got.data(), N, false);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      float lanes[16] = {};  // lane k mod 16, one rounding per fused multiply-add
      for (int64_t k = 0; k < K; ++k) lanes[k % 16] = std::fma(a[i * K + k], b[j * K + k], lanes[k % 16]);
      EXPECT_EQ(got[i * N + j], reduce_lanes(lanes, std::plus<float>())) << i << "," << j;
    }
  }
}

}  // namespace
}  // namespace tessera::core::cpu
