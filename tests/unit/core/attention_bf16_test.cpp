// Training attention with bf16 products against the f64 attention of the same (rounded) inputs:
//  - probabilities: the scores are exact products of bf16 values summed in f32, so within 1e-5;
//  - outputs: the probabilities are rounded to bf16 before the weighted sum (2^-9 relative each),
//    so within 2^-8 of sum_j |p_j v_j| per output;
//  - gradients: d(p) and d(scores) are rounded too; within 1% relative L2 over each of dq, dk, dv,
//    and added to what dqkv held.
// Multi-head and grouped-query heads, lengths that end inside a block of query rows.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/cpu/attention.h"
#include "core/cpu/attention_bf16.h"
#include "core/cpu/bf16_round.h"
#include "tests/support/random.h"

using namespace tessera::core::cpu;
using tessera::testing_support::randn;

namespace {

// x rounded to bf16: the bits, and their values in f64.
struct Rounded {
  std::vector<uint16_t> bits;
  std::vector<double> values;
};
Rounded rounded(const std::vector<float>& x) {
  Rounded r{std::vector<uint16_t>(x.size()), std::vector<double>(x.size())};
  round_to_bf16(r.bits.data(), x.data(), static_cast<int64_t>(x.size()));
  std::vector<float> back(x.size());
  widen_from_bf16(back.data(), r.bits.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) r.values[i] = back[i];
  return r;
}

// ||a - b|| / ||b|| over the columns [c0, c0 + n) of rows of length ld.
double relative_l2(const std::vector<float>& a, const std::vector<double>& b, int64_t ld, int64_t c0, int64_t n) {
  double num = 0, den = 0;
  for (size_t r = 0; r < a.size() / static_cast<size_t>(ld); ++r) {
    for (int64_t c = c0; c < c0 + n; ++c) {
      const size_t i = r * static_cast<size_t>(ld) + static_cast<size_t>(c);
      num += (a[i] - b[i]) * (a[i] - b[i]);
      den += b[i] * b[i];
    }
  }
  return std::sqrt(num / den);
}

void check(int64_t B, int64_t T, int64_t NH, int64_t NKV, int64_t D) {
  SCOPED_TRACE(testing::Message() << "B " << B << " T " << T << " NH " << NH << " NKV " << NKV << " D " << D);
  const int64_t ld = (NH + 2 * NKV) * D, C = NH * D, N = B * T;
  const Rounded qkv = rounded(randn(static_cast<size_t>(N * ld), 21));
  std::vector<double> out_ref(static_cast<size_t>(N * C)), att_ref(static_cast<size_t>(B * NH * T * T));
  attention_forward<double>(out_ref.data(), att_ref.data(), qkv.values.data(), B, T, NH, NKV, D);

  std::vector<float> out(out_ref.size()), att(att_ref.size());
  std::vector<uint16_t> attb(att_ref.size());
  attention_forward_bf16(out.data(), att.data(), attb.data(), qkv.bits.data(), B, T, NH, NKV, D);
  for (size_t i = 0; i < att.size(); ++i) ASSERT_NEAR(att[i], att_ref[i], 1e-5) << "probability " << i;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t h = 0; h < NH; ++h) {
        const double* p = att_ref.data() + ((b * NH + h) * T + t) * T;
        for (int64_t d = 0; d < D; ++d) {
          double bound = 1e-6;
          for (int64_t j = 0; j <= t; ++j) {
            bound += std::ldexp(std::fabs(p[j] * qkv.values[(b * T + j) * ld + (NH + NKV + h / (NH / NKV)) * D + d]), -8);
          }
          const int64_t i = (b * T + t) * C + h * D + d;
          ASSERT_NEAR(out[i], out_ref[i], bound) << "output " << b << "," << t << "," << h << "," << d;
        }
      }
    }
  }

  const Rounded dout = rounded(randn(static_cast<size_t>(N * C), 22));
  std::vector<double> dqkv_ref(static_cast<size_t>(N * ld), 1.0);
  attention_backward<double>(dqkv_ref.data(), dout.values.data(), qkv.values.data(), att_ref.data(), B, T, NH, NKV, D);
  std::vector<float> dqkv(dqkv_ref.size(), 1.0f);
  attention_backward_bf16(dqkv.data(), dout.bits.data(), qkv.bits.data(), att.data(), attb.data(), B, T, NH, NKV, D);
  for (auto& x : dqkv) x -= 1.0f;
  for (auto& x : dqkv_ref) x -= 1.0;
  EXPECT_LT(relative_l2(dqkv, dqkv_ref, ld, 0, NH * D), 0.01) << "dq";
  EXPECT_LT(relative_l2(dqkv, dqkv_ref, ld, NH * D, NKV * D), 0.01) << "dk";
  EXPECT_LT(relative_l2(dqkv, dqkv_ref, ld, (NH + NKV) * D, NKV * D), 0.01) << "dv";
}

}  // namespace

TEST(AttentionBf16, MultiHeadTracksF64) {
  check(2, 45, 4, 4, 16);
  check(1, 64, 2, 2, 32);
}

TEST(AttentionBf16, GroupedQueryTracksF64) { check(2, 70, 8, 2, 16); }
