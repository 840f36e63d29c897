// INT8 weights and the int8 linear layer: quantisation error bounds, the kernels against an exact
// integer reference and against the f32 layer, every ISA's kernel against the portable one bit for
// bit, batch and thread-count invariance.
#include <gtest/gtest.h>
#include <omp.h>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/cpu/linear.h"
#include "core/cpu/linear_int8.h"
#include "core/cpu/quant.h"
#include "core/error.h"
#include "tests/support/random.h"

using namespace tessera::core::cpu;
using Vec = std::vector<float>;

namespace {

using tessera::testing_support::randn;

std::vector<Int8Isa> supported_isas() {
  std::vector<Int8Isa> isas;
  for (Int8Isa i : {Int8Isa::avx512_vnni, Int8Isa::avx_vnni, Int8Isa::portable}) {
    if (int8_isa_supported(i)) isas.push_back(i);
  }
  return isas;
}

bool same_bits(const Vec& a, const Vec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// out (N, OC) from the definition in linear_int8.h: the library's own quantised rows, an int64
// sum of (xu - zp) * q, then the float operations one by one (volatile: no fused multiply-add).
Vec integer_reference(const Vec& inp, const QuantizedWeight& w, const float* bias, int64_t N) {
  std::vector<uint8_t> xu(static_cast<size_t>(N * w.Cp));
  Vec sx(static_cast<size_t>(N));
  std::vector<int32_t> zp(static_cast<size_t>(N));
  quantize_rows(xu.data(), sx.data(), zp.data(), inp.data(), N, w.C, w.Cp);
  Vec out(static_cast<size_t>(N * w.OC));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < w.OC; ++o) {
      int64_t acc = 0;
      for (int64_t k = 0; k < w.C; ++k) {
        acc += (int64_t{xu[static_cast<size_t>(n * w.Cp + k)]} - zp[static_cast<size_t>(n)]) * w.at(o, k);
      }
      volatile float s = sx[static_cast<size_t>(n)] * w.scales[static_cast<size_t>(o)];
      volatile float v = static_cast<float>(acc) * s;
      out[static_cast<size_t>(n * w.OC + o)] = v + (bias ? bias[o] : 0.0f);
    }
  }
  return out;
}

Vec int8_linear(const Vec& inp, const QuantizedWeight& w, const float* bias, int64_t N, Int8Isa isa,
                const float* residual = nullptr) {
  Vec out(static_cast<size_t>(N * w.OC), -1.0f);
  linear_int8_forward_residual(out.data(), inp.data(), w, bias, residual, N, isa);
  return out;
}

}  // namespace

TEST(QuantizeWeight, ErrorWithinHalfAStepAndPackedLayout) {
  const int64_t OC = 70, C = 45;  // neither a multiple of the padding
  const Vec w = randn(static_cast<size_t>(OC * C), 1, 0.02f);
  const QuantizedWeight q = quantize_weight(w.data(), OC, C);
  EXPECT_EQ(q.OCp, 128);
  EXPECT_EQ(q.Cp, 48);
  EXPECT_EQ(q.values.size(), static_cast<size_t>(128 * 48));
  const Vec d = dequantize_weight(q);
  for (int64_t o = 0; o < OC; ++o) {
    const float scale = q.scales[static_cast<size_t>(o)];
    float amax = 0;
    int32_t sum = 0, qmax = 0;
    for (int64_t k = 0; k < C; ++k) amax = std::max(amax, std::abs(w[static_cast<size_t>(o * C + k)]));
    EXPECT_FLOAT_EQ(scale, amax / 127.0f);
    for (int64_t k = 0; k < C; ++k) {
      const size_t i = static_cast<size_t>(o * C + k);
      ASSERT_LE(std::abs(w[i] - d[i]), 0.5f * scale * (1 + 1e-5f)) << o << "," << k;
      const int8_t v = q.at(o, k);
      // The packed index, written out: panel o/16, group k/4, lane o%16, byte k%4.
      ASSERT_EQ(v, q.values[static_cast<size_t>(((o / 16) * 12 + k / 4) * 64 + (o % 16) * 4 + k % 4)]);
      sum += v;
      qmax = std::max(qmax, std::abs(int32_t{v}));
    }
    EXPECT_EQ(qmax, 127) << "the largest weight of a channel maps to +-127";
    EXPECT_EQ(sum, q.wsum[static_cast<size_t>(o)]);
  }
  for (int64_t o = OC; o < q.OCp; ++o) EXPECT_EQ(q.scales[static_cast<size_t>(o)], 0.0f);
  for (int64_t k = C; k < q.Cp; ++k) EXPECT_EQ(q.at(3, k), 0);
}

TEST(QuantizeWeight, ZeroAndExtremeChannels) {
  const int64_t C = 33;
  Vec w(static_cast<size_t>(4 * C), 0.0f);  // channel 0: all zero
  for (int64_t k = 0; k < C; ++k) {
    w[static_cast<size_t>(C + k)] = (k % 2 ? 1.0f : -1.0f) * 3e38f * (static_cast<float>(k + 1) / C);
    w[static_cast<size_t>(2 * C + k)] = 1e-30f * static_cast<float>(k - 16);
    w[static_cast<size_t>(3 * C + k)] = 0.01f * static_cast<float>(k % 5);  // one outlier below
  }
  w[static_cast<size_t>(3 * C + 7)] = 1000.0f;
  const QuantizedWeight q = quantize_weight(w.data(), 4, C);
  EXPECT_EQ(q.scales[0], 0.0f);
  EXPECT_EQ(q.wsum[0], 0);
  const Vec d = dequantize_weight(q);
  for (int64_t k = 0; k < C; ++k) EXPECT_EQ(d[static_cast<size_t>(k)], 0.0f);
  for (int64_t o = 1; o < 4; ++o) {
    const float scale = q.scales[static_cast<size_t>(o)];
    EXPECT_GT(scale, 0.0f);
    for (int64_t k = 0; k < C; ++k) {
      const size_t i = static_cast<size_t>(o * C + k);
      ASSERT_TRUE(std::isfinite(d[i]));
      ASSERT_LE(std::abs(w[i] - d[i]), 0.5f * scale * (1 + 1e-5f)) << o << "," << k;
    }
  }
  // The outlier channel: the step is 1000/127, so the small weights all round to zero.
  EXPECT_EQ(q.at(3, 7), 127);
  EXPECT_EQ(q.at(3, 4), 0);
  w[5] = std::nanf("");
  EXPECT_THROW(quantize_weight(w.data(), 4, C), tessera::Error);
  w[5] = INFINITY;
  EXPECT_THROW(quantize_weight(w.data(), 4, C), tessera::Error);
}

TEST(QuantizeRows, ErrorWithinHalfAStepZeroAndNonFiniteRows) {
  const int64_t N = 4, C = 50, Cp = 52;
  Vec x = randn(static_cast<size_t>(N * C), 2, 3.0f);
  for (int64_t k = 0; k < C; ++k) {
    x[static_cast<size_t>(C + k)] = 0.0f;                            // row 1: zeros
    x[static_cast<size_t>(2 * C + k)] = 0.5f + static_cast<float>(k);  // row 2: all positive
  }
  x[static_cast<size_t>(3 * C + 9)] = std::nanf("");                 // row 3: a NaN
  std::vector<uint8_t> xu(static_cast<size_t>(N * Cp), 77);
  Vec sx(N);
  std::vector<int32_t> zp(N);
  quantize_rows(xu.data(), sx.data(), zp.data(), x.data(), N, C, Cp);
  for (int64_t n : {0, 2}) {
    EXPECT_GT(sx[static_cast<size_t>(n)], 0.0f);
    for (int64_t k = 0; k < C; ++k) {
      const float back = static_cast<float>(int32_t{xu[static_cast<size_t>(n * Cp + k)]} - zp[static_cast<size_t>(n)]) * sx[static_cast<size_t>(n)];
      ASSERT_LE(std::abs(back - x[static_cast<size_t>(n * C + k)]), 0.5f * sx[static_cast<size_t>(n)] * 1.0001f) << n << "," << k;
    }
    EXPECT_EQ(xu[static_cast<size_t>(n * Cp + C)], 0) << "padding is zero";
  }
  EXPECT_EQ(zp[2], 0) << "an all-positive row keeps 0 representable at 0";
  EXPECT_EQ(sx[1], 0.0f);
  EXPECT_EQ(zp[1], 0);
  EXPECT_TRUE(std::isnan(sx[3]));
}

TEST(LinearInt8, MatchesExactIntegerReferenceBitForBit) {
  const int64_t N = 9, C = 131, OC = 77;
  const Vec x = randn(static_cast<size_t>(N * C), 3), wf = randn(static_cast<size_t>(OC * C), 4, 0.05f);
  const Vec bias = randn(static_cast<size_t>(OC), 5, 0.1f);
  const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
  for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
    const Vec ref = integer_reference(x, w, b, N);
    for (Int8Isa isa : supported_isas()) {
      EXPECT_TRUE(same_bits(int8_linear(x, w, b, N, isa), ref)) << int8_isa_name(isa);
    }
  }
}

// Relative RMS error of the int8 layer against the f32 one (batch-invariant path) on one input.
static double relative_error(const Vec& x, int64_t N, int64_t C, int64_t OC, uint32_t seed) {
  const Vec wf = randn(static_cast<size_t>(OC * C), seed, 0.02f), bias = randn(static_cast<size_t>(OC), seed + 1, 0.02f);
  const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
  Vec ref(static_cast<size_t>(N * OC));
  linear_forward<float>(ref.data(), x.data(), wf.data(), bias.data(), N, C, OC, true);
  const Vec got = int8_linear(x, w, bias.data(), N, Int8Isa::best);
  double err = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err += (got[i] - ref[i]) * double(got[i] - ref[i]);
    norm += ref[i] * double(ref[i]);
  }
  return std::sqrt(err / norm);
}

TEST(LinearInt8, CloseToTheFloatLayer) {
  // GPT-2-like: weights of standard deviation 0.02. Expected about 1.1% for LayerNorm outputs
  // (C = 768, unit normal): weight steps of ~3.3 sd / 127 and activation steps of ~6.6 sd / 255,
  // each a uniform rounding error of step / sqrt(12).
  const int64_t N = 5;
  const double ln = relative_error(randn(static_cast<size_t>(N * 768), 6), N, 768, 300, 7);
  // mlp.down's input, GELU of unit normals (C = 3072): one-signed, the zero point uses the range.
  Vec h = randn(static_cast<size_t>(N * 3072), 8);
  for (float& v : h) v = 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
  const double gelu = relative_error(h, N, 3072, 200, 9);
  std::printf("int8 vs f32 relative RMS error: %.4f (LayerNorm-like input), %.4f (GELU input)\n", ln, gelu);
  for (double rel : {ln, gelu}) {
    EXPECT_LT(rel, 0.02) << "relative RMS error";
    EXPECT_GT(rel, 1e-4) << "the int8 path must actually quantise";
  }
}

TEST(LinearInt8, EveryKernelMatchesThePortableOneBitForBit) {
  const std::vector<std::array<int64_t, 3>> shapes = {  // N, C, OC
      {1, 4, 1}, {2, 45, 17}, {3, 768, 64}, {5, 100, 130}, {6, 64, 200}, {7, 333, 65}, {13, 768, 192},
      {64, 256, 96}};
  uint32_t seed = 10;
  for (const auto& [N, C, OC] : shapes) {
    const Vec x = randn(static_cast<size_t>(N * C), seed++), wf = randn(static_cast<size_t>(OC * C), seed++, 0.1f);
    const Vec bias = randn(static_cast<size_t>(OC), seed++), res = randn(static_cast<size_t>(N * OC), seed++);
    const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
    const Vec want = int8_linear(x, w, bias.data(), N, Int8Isa::portable);
    const Vec want_res = int8_linear(x, w, nullptr, N, Int8Isa::portable, res.data());
    for (Int8Isa isa : supported_isas()) {
      EXPECT_TRUE(same_bits(int8_linear(x, w, bias.data(), N, isa), want))
          << int8_isa_name(isa) << " N=" << N << " C=" << C << " OC=" << OC;
      EXPECT_TRUE(same_bits(int8_linear(x, w, nullptr, N, isa, res.data()), want_res))
          << int8_isa_name(isa) << " with residual, N=" << N << " C=" << C << " OC=" << OC;
    }
  }
  std::printf("int8 kernels tested: %zu (best: %s)\n", supported_isas().size(), int8_isa_name(Int8Isa::best));
}

TEST(LinearInt8, BatchAndThreadInvariance) {
  const int64_t N = 7, C = 768, OC = 2304;
  const Vec x = randn(static_cast<size_t>(N * C), 20), wf = randn(static_cast<size_t>(OC * C), 21, 0.02f);
  const Vec bias = randn(static_cast<size_t>(OC), 22, 0.02f);
  const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
  for (Int8Isa isa : supported_isas()) {
    const Vec batch = int8_linear(x, w, bias.data(), N, isa);
    for (int64_t r = 0; r < N; ++r) {
      const Vec row(x.begin() + r * C, x.begin() + (r + 1) * C);
      const Vec alone = int8_linear(row, w, bias.data(), 1, isa);
      EXPECT_EQ(std::memcmp(alone.data(), batch.data() + r * OC, OC * sizeof(float)), 0)
          << int8_isa_name(isa) << " row " << r;
    }
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const Vec one_thread = int8_linear(x, w, bias.data(), N, isa);
    omp_set_num_threads(threads);
    EXPECT_TRUE(same_bits(one_thread, batch)) << int8_isa_name(isa);
  }
}

TEST(LinearInt8, LargestRowFitsInt32) {
  // C = kInt8MaxC with every product at its maximum (xu = 255, q = 127, zero point 0):
  // 255 * 127 * 65536 = 2,122,383,360 < 2^31. The output is then C (all ones), up to rounding.
  const int64_t C = kInt8MaxC, OC = 16;
  const Vec x(static_cast<size_t>(C), 1.0f), wf(static_cast<size_t>(OC * C), 1.0f);
  const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
  for (Int8Isa isa : supported_isas()) {
    const Vec y = int8_linear(x, w, nullptr, 1, isa);
    for (float v : y) ASSERT_NEAR(v, static_cast<float>(C), 1e-4 * C) << int8_isa_name(isa);
  }
  const Vec too_wide(static_cast<size_t>(C + 1), 1.0f);
  EXPECT_THROW(quantize_weight(too_wide.data(), 1, C + 1), tessera::Error);
}

TEST(LinearInt8, NonFiniteRowGivesNaNOthersUntouched) {
  const int64_t N = 3, C = 40, OC = 20;
  Vec x = randn(static_cast<size_t>(N * C), 30);
  x[static_cast<size_t>(C + 3)] = INFINITY;
  const Vec wf = randn(static_cast<size_t>(OC * C), 31);
  const QuantizedWeight w = quantize_weight(wf.data(), OC, C);
  const Vec y = int8_linear(x, w, nullptr, N, Int8Isa::best);
  for (int64_t o = 0; o < OC; ++o) {
    EXPECT_TRUE(std::isnan(y[static_cast<size_t>(OC + o)]));
    EXPECT_TRUE(std::isfinite(y[static_cast<size_t>(o)]));
    EXPECT_TRUE(std::isfinite(y[static_cast<size_t>(2 * OC + o)]));
  }
}
