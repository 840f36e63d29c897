// CPU kernels: gradient checks against central finite differences (double precision) and
// closed-form values. Each loss is sum(out * g) for a fixed random g, so backward gets dout = g.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu/activations.h"
#include "core/cpu/adamw.h"
#include "core/cpu/attention.h"
#include "core/cpu/cross_entropy.h"
#include "core/cpu/embedding.h"
#include "core/cpu/layernorm.h"
#include "core/cpu/linear.h"
#include "core/cpu/rmsnorm.h"
#include "core/cpu/rope.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"
#include "grad_check.h"

using namespace tessera::core::cpu;
using tessera::test::dot;
using tessera::test::expect_gradient;
using tessera::test::randn;
using Vec = std::vector<double>;
using tessera::core::bf16;

TEST(Linear, GradientsMatchFiniteDifferences) {
  const int64_t N = 3, C = 4, OC = 5;
  Vec inp = randn(N * C, 1), w = randn(OC * C, 2), b = randn(OC, 3), g = randn(N * OC, 4);
  auto loss = [&] {
    Vec out(N * OC);
    linear_forward<double>(out.data(), inp.data(), w.data(), b.data(), N, C, OC);
    return dot(out, g);
  };
  Vec dinp(N * C, 0.0), dw(OC * C, 0.0), db(OC, 0.0);
  linear_backward<double>(dinp.data(), dw.data(), db.data(), g.data(), inp.data(), w.data(), N, C, OC);
  expect_gradient(inp, dinp, loss, "dinp");
  expect_gradient(w, dw, loss, "dweight");
  expect_gradient(b, db, loss, "dbias");
}

TEST(Linear, FloatAndBatchInvariantPathsAgree) {
  const int64_t N = 6, C = 33, OC = 7;
  Vec inp = randn(N * C, 5), w = randn(OC * C, 6), b = randn(OC, 7);
  Vec ref(N * OC);
  linear_forward<double>(ref.data(), inp.data(), w.data(), b.data(), N, C, OC);
  std::vector<float> fi(inp.begin(), inp.end()), fw(w.begin(), w.end()), fb(b.begin(), b.end());
  for (bool invariant : {false, true}) {
    std::vector<float> out(N * OC);
    linear_forward<float>(out.data(), fi.data(), fw.data(), fb.data(), N, C, OC, invariant);
    for (int64_t i = 0; i < N * OC; ++i) EXPECT_NEAR(out[i], ref[i], 1e-4) << invariant;
  }
}

// Shapes large enough that the float GEMMs split their output over threads (rows, then columns),
// narrowing (transposed weight) and widening (transposed weight gradient) layers; the weight
// gradient accumulates onto a nonzero one.
TEST(Linear, FloatMatchesDoubleOnLargeShapes) {
  struct Shape { int64_t N, C, OC; };
  for (const Shape& sh : {Shape{300, 20, 40}, Shape{70, 20, 300}, Shape{70, 300, 20}}) {
    const int64_t N = sh.N, C = sh.C, OC = sh.OC;
    Vec inp = randn(N * C, 8), w = randn(OC * C, 9), g = randn(N * OC, 10), dw = randn(OC * C, 11);
    Vec out(N * OC), dinp(N * C);
    linear_forward<double>(out.data(), inp.data(), w.data(), nullptr, N, C, OC);
    std::vector<float> fi(inp.begin(), inp.end()), fw(w.begin(), w.end()), fg(g.begin(), g.end());
    std::vector<float> fdw(dw.begin(), dw.end()), fout(N * OC), fdinp(N * C);
    linear_forward<float>(fout.data(), fi.data(), fw.data(), nullptr, N, C, OC);
    linear_backward<double>(dinp.data(), dw.data(), nullptr, g.data(), inp.data(), w.data(), N, C, OC);
    linear_backward<float>(fdinp.data(), fdw.data(), nullptr, fg.data(), fi.data(), fw.data(), N, C, OC);
    // fp32 sums of up to 300 products of unit normals: errors ~1e-5
    for (int64_t i = 0; i < N * OC; ++i) ASSERT_NEAR(fout[i], out[i], 1e-3) << N << " " << C << " " << OC;
    for (int64_t i = 0; i < N * C; ++i) ASSERT_NEAR(fdinp[i], dinp[i], 1e-3) << N << " " << C << " " << OC;
    for (int64_t i = 0; i < OC * C; ++i) ASSERT_NEAR(fdw[i], dw[i], 1e-3) << N << " " << C << " " << OC;
  }
}

TEST(Embedding, ForwardAndGradients) {
  const int64_t B = 2, T = 3, C = 4, V = 5, P = 4;
  std::vector<int32_t> tok{1, 4, 1, 0, 2, 1};  // token 1 repeats: its gradient sums three rows
  Vec wte = randn(V * C, 1), wpe = randn(P * C, 2), g = randn(B * T * C, 3);
  auto loss = [&] {
    Vec out(B * T * C);
    embedding_forward<double>(out.data(), tok.data(), nullptr, wte.data(), wpe.data(), B, T, C, V, P);
    return dot(out, g);
  };
  Vec out(B * T * C);
  embedding_forward<double>(out.data(), tok.data(), nullptr, wte.data(), wpe.data(), B, T, C, V, P);
  EXPECT_DOUBLE_EQ(out[(1 * T + 2) * C + 3], wte[1 * C + 3] + wpe[2 * C + 3]);
  Vec dwte(V * C, 0.0), dwpe(P * C, 0.0);
  embedding_backward<double>(dwte.data(), dwpe.data(), g.data(), tok.data(), nullptr, B, T, C);
  expect_gradient(wte, dwte, loss, "dwte");
  expect_gradient(wpe, dwpe, loss, "dwpe");
}

TEST(Embedding, RejectsOutOfRangeIds) {
  Vec wte(4 * 2), out(2 * 2);
  std::vector<int32_t> bad{0, 4};
  EXPECT_THROW(embedding_forward<double>(out.data(), bad.data(), nullptr, wte.data(), nullptr, 1, 2,
                                         2, 4, 0),
               tessera::Error);
  bad = {-1, 0};
  EXPECT_THROW(embedding_forward<double>(out.data(), bad.data(), nullptr, wte.data(), nullptr, 1, 2,
                                         2, 4, 0),
               tessera::Error);
}

TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  const int64_t N = 3, C = 6;
  Vec inp = randn(N * C, 1, 2.0), w = randn(C, 2), b = randn(C, 3), g = randn(N * C, 4);
  for (double& x : inp) x += 3.0;  // a non-zero mean
  auto loss = [&] {
    Vec out(N * C), mean(N), rstd(N);
    layernorm_forward<double>(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N, C);
    return dot(out, g);
  };
  Vec out(N * C), mean(N), rstd(N), dinp(N * C, 0.0), dw(C, 0.0), db(C, 0.0);
  layernorm_forward<double>(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N, C);
  layernorm_backward<double>(dinp.data(), dw.data(), db.data(), g.data(), inp.data(), w.data(),
                             mean.data(), rstd.data(), N, C);
  expect_gradient(inp, dinp, loss, "dinp");
  expect_gradient(w, dw, loss, "dweight");
  expect_gradient(b, db, loss, "dbias");
}

TEST(LayerNorm, OutputHasMeanZeroVarianceOne) {
  const int64_t N = 4, C = 64;
  Vec inp = randn(N * C, 9, 5.0), w(C, 1.0), b(C, 0.0), out(N * C), mean(N), rstd(N);
  for (double& x : inp) x -= 7.0;
  layernorm_forward<double>(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N,
                            C, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    double m = 0, v = 0;
    for (int64_t c = 0; c < C; ++c) m += out[n * C + c] / C;
    for (int64_t c = 0; c < C; ++c) v += (out[n * C + c] - m) * (out[n * C + c] - m) / C;
    EXPECT_NEAR(m, 0.0, 1e-12);
    EXPECT_NEAR(v, 1.0, 1e-12);
  }
}

TEST(RmsNorm, GradientsMatchFiniteDifferences) {
  const int64_t N = 3, C = 5;
  Vec inp = randn(N * C, 1), w = randn(C, 2), g = randn(N * C, 4);
  auto loss = [&] {
    Vec out(N * C), rstd(N);
    rmsnorm_forward<double>(out.data(), rstd.data(), inp.data(), w.data(), N, C);
    return dot(out, g);
  };
  Vec out(N * C), rstd(N), dinp(N * C, 0.0), dw(C, 0.0);
  rmsnorm_forward<double>(out.data(), rstd.data(), inp.data(), w.data(), N, C);
  rmsnorm_backward<double>(dinp.data(), dw.data(), g.data(), inp.data(), w.data(), rstd.data(), N, C);
  expect_gradient(inp, dinp, loss, "dinp");
  expect_gradient(w, dw, loss, "dweight");
}

TEST(RmsNorm, UnitRootMeanSquare) {
  const int64_t C = 32;
  Vec inp = randn(C, 3, 4.0), w(C, 1.0), out(C), rstd(1);
  rmsnorm_forward<double>(out.data(), rstd.data(), inp.data(), w.data(), 1, C, 0.0);
  EXPECT_NEAR(dot(out, out) / C, 1.0, 1e-12);
}

TEST(Gelu, ValuesAndGradient) {
  Vec x = randn(20, 1, 2.0), g = randn(20, 2);
  x[0] = 0.0;
  x[1] = 1.0;
  auto loss = [&] {
    Vec out(x.size());
    gelu_forward<double>(out.data(), x.data(), static_cast<int64_t>(x.size()));
    return dot(out, g);
  };
  Vec out(x.size()), dx(x.size(), 7.0);  // backward writes dinp: what it held does not count
  gelu_forward<double>(out.data(), x.data(), 20);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_NEAR(out[1], 0.8411919906082768, 1e-15);  // 0.5 (1 + tanh(sqrt(2/pi) 1.044715))
  gelu_backward<double>(dx.data(), x.data(), g.data(), 20);
  expect_gradient(x, dx, loss, "dinp");
  Vec inplace = g;  // dinp aliasing dout
  gelu_backward<double>(inplace.data(), x.data(), inplace.data(), 20);
  EXPECT_EQ(inplace, dx);
}

TEST(SwiGlu, ValuesAndGradients) {
  Vec gate = randn(12, 1, 2.0), up = randn(12, 2), g = randn(12, 3);
  auto loss = [&] {
    Vec out(12);
    swiglu_forward<double>(out.data(), gate.data(), up.data(), 12);
    return dot(out, g);
  };
  Vec out(12), dgate(12, 7.0), dup(12, -3.0);  // backward writes both: what they held does not count
  swiglu_forward<double>(out.data(), gate.data(), up.data(), 12);
  EXPECT_NEAR(out[0], gate[0] / (1 + std::exp(-gate[0])) * up[0], 1e-15);
  swiglu_backward<double>(dgate.data(), dup.data(), g.data(), gate.data(), up.data(), 12);
  expect_gradient(gate, dgate, loss, "dgate");
  expect_gradient(up, dup, loss, "dup");
  Vec inplace = g, dup2(12, 0.0);  // dgate aliasing dout
  swiglu_backward<double>(inplace.data(), dup2.data(), inplace.data(), gate.data(), up.data(), 12);
  EXPECT_EQ(inplace, dgate);
  EXPECT_EQ(dup2, dup);
}

TEST(Rope, PreservesNormsAndIsIdentityAtPositionZero) {
  const int64_t B = 1, T = 5, H = 2, D = 8, ld = H * D;
  Vec x = randn(B * T * ld, 1), y = x;
  rope_forward<double>(y.data(), nullptr, B, T, H, D, ld);
  for (int64_t i = 0; i < H * D; ++i) EXPECT_EQ(y[i], x[i]);  // t = 0: no rotation
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < H; ++h) {
      double nx = 0, ny = 0;
      for (int64_t d = 0; d < D; ++d) {
        nx += x[t * ld + h * D + d] * x[t * ld + h * D + d];
        ny += y[t * ld + h * D + d] * y[t * ld + h * D + d];
      }
      EXPECT_NEAR(nx, ny, 1e-12);
    }
  }
  // Rotate-half layout: element 0 pairs with D/2, at angle t * theta^0 = t.
  const int64_t t = 3;
  EXPECT_NEAR(y[t * ld], x[t * ld] * std::cos(3.0) - x[t * ld + D / 2] * std::sin(3.0), 1e-12);
  EXPECT_NEAR(y[t * ld + D / 2], x[t * ld + D / 2] * std::cos(3.0) + x[t * ld] * std::sin(3.0), 1e-12);
}

TEST(Rope, DotProductDependsOnlyOnRelativePosition) {
  const int64_t D = 8;
  Vec q = randn(D, 1), k = randn(D, 2);
  auto rotated_dot = [&](int32_t pq, int32_t pk) {
    Vec a = q, b = k;
    rope_forward<double>(a.data(), &pq, 1, 1, 1, D, D);
    rope_forward<double>(b.data(), &pk, 1, 1, 1, D, D);
    return dot(a, b);
  };
  EXPECT_NEAR(rotated_dot(7, 3), rotated_dot(104, 100), 1e-10);
}

TEST(Rope, GradientMatchesFiniteDifferences) {
  const int64_t B = 2, T = 3, H = 2, D = 4, ld = H * D + 3;  // strided rows, as inside qkv
  Vec x = randn(B * T * ld, 1), g = randn(B * T * ld, 2);
  for (int64_t n = 0; n < B * T; ++n) {
    for (int64_t j = H * D; j < ld; ++j) g[n * ld + j] = 0;  // untouched columns
  }
  auto loss = [&] {
    Vec y = x;
    rope_forward<double>(y.data(), nullptr, B, T, H, D, ld);
    return dot(y, g);
  };
  Vec dx = g;
  rope_backward<double>(dx.data(), nullptr, B, T, H, D, ld);
  expect_gradient(x, dx, loss, "dx");
}

// Checks the probabilities and dqkv of attention at (B, T, NH, NKV, D) against finite differences.
static void check_attention_gradients(int64_t B, int64_t T, int64_t NH, int64_t NKV, int64_t D) {
  const int64_t QKV = (NH + 2 * NKV) * D;
  Vec qkv = randn(B * T * QKV, 1), g = randn(B * T * NH * D, 2);
  auto loss = [&] {
    Vec out(B * T * NH * D), att(B * NH * T * T);
    attention_forward<double>(out.data(), att.data(), qkv.data(), B, T, NH, NKV, D);
    return dot(out, g);
  };
  Vec out(B * T * NH * D), att(B * NH * T * T), dqkv(B * T * QKV, 0.0);
  attention_forward<double>(out.data(), att.data(), qkv.data(), B, T, NH, NKV, D);
  // Causal softmax rows: sum to one, zero above the diagonal.
  for (int64_t r = 0; r < B * NH * T; ++r) {
    const int64_t t = r % T;
    double s = 0;
    for (int64_t j = 0; j < T; ++j) s += att[r * T + j];
    EXPECT_NEAR(s, 1.0, 1e-12);
    for (int64_t j = t + 1; j < T; ++j) EXPECT_EQ(att[r * T + j], 0.0);
  }
  attention_backward<double>(dqkv.data(), g.data(), qkv.data(), att.data(), B, T, NH, NKV, D);
  expect_gradient(qkv, dqkv, loss, "dqkv");
}

TEST(Attention, GroupedQueryGradientsMatchFiniteDifferences) { check_attention_gradients(2, 4, 4, 2, 3); }

// T = 150 spans two full blocks of query rows and a partial one.
TEST(Attention, BlockedGradientsMatchFiniteDifferences) { check_attention_gradients(1, 150, 2, 1, 2); }

TEST(Attention, SingleTokenReturnsItsValue) {
  const int64_t NH = 4, NKV = 2, D = 5, QKV = (NH + 2 * NKV) * D;
  Vec qkv = randn(QKV, 3), out(NH * D), att(NH);
  attention_forward<double>(out.data(), att.data(), qkv.data(), 1, 1, NH, NKV, D);
  for (int64_t h = 0; h < NH; ++h) {
    const int64_t g = h / (NH / NKV);
    for (int64_t d = 0; d < D; ++d) EXPECT_DOUBLE_EQ(out[h * D + d], qkv[(NH + NKV + g) * D + d]);
  }
}

TEST(Attention, FloatMatchesDouble) {
  const int64_t B = 2, T = 150, NH = 4, NKV = 1, D = 8, QKV = (NH + 2 * NKV) * D;
  Vec qkv = randn(B * T * QKV, 4), g = randn(B * T * NH * D, 5);
  Vec out(B * T * NH * D), att(B * NH * T * T), dqkv(B * T * QKV, 0.0);
  attention_forward<double>(out.data(), att.data(), qkv.data(), B, T, NH, NKV, D);
  attention_backward<double>(dqkv.data(), g.data(), qkv.data(), att.data(), B, T, NH, NKV, D);
  std::vector<float> fq(qkv.begin(), qkv.end()), fg(g.begin(), g.end()), fo(out.size()),
      fa(att.size()), fd(dqkv.size(), 0.0f);
  attention_forward<float>(fo.data(), fa.data(), fq.data(), B, T, NH, NKV, D);
  attention_backward<float>(fd.data(), fg.data(), fq.data(), fa.data(), B, T, NH, NKV, D);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(fo[i], out[i], 1e-5) << i;
  for (size_t i = 0; i < dqkv.size(); ++i) ASSERT_NEAR(fd[i], dqkv[i], 1e-4) << i;
  // The fixed-order path computes the same attention.
  std::vector<float> io(out.size()), ia(att.size());
  attention_forward<float>(io.data(), ia.data(), fq.data(), B, T, NH, NKV, D, true);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(io[i], out[i], 1e-5) << i;
  for (size_t i = 0; i < att.size(); ++i) ASSERT_NEAR(ia[i], att[i], 1e-6) << i;
}

// The serving kernel reads keys and values in place from pages scattered over a pool (as a paged
// KV cache holds them, here in reversed order) and gives each row bitwise what the training
// forward's batch-invariant path gives it; pages of 16 (the engine's blocks) and of 7 tokens (a
// page boundary inside a lane group), D = 24 (a partial lane group in the score products), GQA;
// D = 64 with pages of 16 and 32 takes the AVX-512 kernels where the CPU has them.
static void check_paged_attention(int64_t page, int64_t D) {
  const int64_t T = 150, NH = 4, NKV = 2, QKV = (NH + 2 * NKV) * D, group = NH / NKV;
  const Vec qkv_d = randn(T * QKV, 6);
  const std::vector<float> qkv(qkv_d.begin(), qkv_d.end());
  std::vector<float> want(T * NH * D), att(NH * T * T);
  attention_forward<float>(want.data(), att.data(), qkv.data(), 1, T, NH, NKV, D, true);
  const int64_t pages = (T + page - 1) / page, ld = NKV * D;
  std::vector<float> kpool(pages * page * ld), vpool(kpool.size());  // (pages, page, NKV, D)
  for (int64_t t = 0; t < T; ++t) {
    const int64_t slot = (pages - 1 - t / page) * page + t % page;  // page p stored at pages-1-p
    std::copy_n(qkv.begin() + t * QKV + NH * D, ld, kpool.begin() + slot * ld);
    std::copy_n(qkv.begin() + t * QKV + (NH + NKV) * D, ld, vpool.begin() + slot * ld);
  }
  std::vector<float> out(group * D), scratch(paged_attention_scratch(group, T, D));
  for (int64_t g = 0; g < NKV; ++g) {
    std::vector<const float*> keys, values;
    for (int64_t p = 0; p < pages; ++p) {
      keys.push_back(kpool.data() + (pages - 1 - p) * page * ld + g * D);
      values.push_back(vpool.data() + (pages - 1 - p) * page * ld + g * D);
    }
    const PagedContext<float> ctx{keys.data(), values.data(), page, ld};
    for (int64_t t = 0; t < T; ++t) {
      attention_rows_paged<float>(out.data(), D, qkv.data() + t * QKV + g * group * D, D, group, ctx, t + 1, D,
                                  scratch.data());
      for (int64_t i = 0; i < group * D; ++i) {
        ASSERT_EQ(out[i], want[t * NH * D + g * group * D + i]) << "token " << t << " kv head " << g << " at " << i;
      }
    }
  }
}

TEST(Attention, PagedRowsEqualTheBatchInvariantForwardBitwise) {
  check_paged_attention(16, 24);
  check_paged_attention(7, 24);
  check_paged_attention(16, 64);
  check_paged_attention(32, 64);
}

// A bf16 context (pages of one head's tokens, as the KV cache holds them) gives bitwise what an f32
// context holding the same rounded values gives, and stays within bf16's error of the unrounded
// attention; pages of 16 and of 20 tokens (a page longer than the 16 tokens widened at once), and
// at D = 64 pages of 16 and 32 (the AVX-512 kernels where the CPU has them).
static void check_bf16_paged_attention(int64_t page, int64_t D) {
  const int64_t n = 150, M = 2, pages = (n + page - 1) / page;
  const Vec kv_d = randn(2 * pages * page * D, 7), q_d = randn(M * D, 8);
  const std::vector<float> q(q_d.begin(), q_d.end());
  std::vector<float> exact(kv_d.begin(), kv_d.end()), rounded(exact.size());
  std::vector<bf16> packed(exact.size());
  for (size_t i = 0; i < exact.size(); ++i) {
    packed[i] = bf16(exact[i]);
    rounded[i] = static_cast<float>(packed[i]);
  }
  auto run = [&]<typename E>(const std::vector<E>& pool) {
    std::vector<const E*> keys, values;  // page p of the keys at pool page p, of the values after them
    for (int64_t p = 0; p < pages; ++p) {
      keys.push_back(pool.data() + p * page * D);
      values.push_back(pool.data() + (pages + p) * page * D);
    }
    const PagedContext<E> ctx{keys.data(), values.data(), page, D};
    std::vector<float> out(M * D), scratch(paged_attention_scratch(M, n, D));
    attention_rows_paged<float>(out.data(), D, q.data(), D, M, ctx, n, D, scratch.data());
    return out;
  };
  const std::vector<float> got = run(packed), want = run(rounded), unrounded = run(exact);
  for (int64_t i = 0; i < M * D; ++i) {
    ASSERT_EQ(got[i], want[i]) << i;
    EXPECT_NEAR(got[i], unrounded[i], 2e-2) << i;
  }
}

TEST(Attention, Bf16PagedContextEqualsTheF32ContextOfItsRoundedValuesBitwise) {
  check_bf16_paged_attention(16, 24);
  check_bf16_paged_attention(20, 24);
  check_bf16_paged_attention(16, 64);
  check_bf16_paged_attention(32, 64);
}

TEST(CrossEntropy, UniformLogitsGiveLogV) {
  const int64_t N = 3, V = 50;
  Vec logits(N * V, 0.25), d(N * V);
  std::vector<int32_t> y{0, 17, 49};
  EXPECT_NEAR(softmax_cross_entropy<double>(logits.data(), d.data(), nullptr, y.data(), N, V),
              std::log(50.0), 1e-14);
  EXPECT_NEAR(d[1], 1.0 / 50 / 3, 1e-15);
  EXPECT_NEAR(d[17 + V], (1.0 / 50 - 1.0) / 3, 1e-15);
}

TEST(CrossEntropy, GradientMatchesFiniteDifferencesAndIgnoresPadding) {
  const int64_t N = 4, V = 7;
  Vec logits = randn(N * V, 1, 3.0);
  std::vector<int32_t> y{3, kIgnoreTarget, 0, 6};
  auto loss = [&] { return softmax_cross_entropy<double>(logits.data(), nullptr, nullptr, y.data(), N, V); };
  Vec d(N * V), losses(N);
  const double mean = softmax_cross_entropy<double>(logits.data(), d.data(), losses.data(), y.data(), N, V);
  EXPECT_EQ(losses[1], 0.0);
  EXPECT_NEAR(mean, (losses[0] + losses[2] + losses[3]) / 3, 1e-14);
  for (int64_t v = 0; v < V; ++v) EXPECT_EQ(d[V + v], 0.0);
  expect_gradient(logits, d, loss, "dlogits");
  // In place (dlogits aliasing logits) gives the same gradient.
  Vec inplace = logits;
  softmax_cross_entropy<double>(inplace.data(), inplace.data(), nullptr, y.data(), N, V);
  for (int64_t i = 0; i < N * V; ++i) EXPECT_NEAR(inplace[i], d[i], 1e-15);
  std::vector<int32_t> bad{3, 7, 0, 0};
  EXPECT_THROW(softmax_cross_entropy<double>(logits.data(), nullptr, nullptr, bad.data(), N, V),
               tessera::Error);
}

TEST(CrossEntropy, LargeLogitsStayFinite) {
  std::vector<float> logits{1000.0f, 0.0f, -1000.0f};
  std::vector<int32_t> y{1};
  EXPECT_NEAR(softmax_cross_entropy<float>(logits.data(), logits.data(), nullptr, y.data(), 1, 3),
              1000.0, 1e-3);
  EXPECT_NEAR(logits[0], 1.0f, 1e-6);
}

TEST(CrossEntropy, FloatMatchesDoubleOnAWideVocabulary) {
  // A vocabulary wider than the float partial sums' blocks, with a partial last block.
  const int64_t N = 3, V = 8192 + 37;
  const Vec logits = randn(N * V, 12, 3.0);
  const std::vector<int32_t> y{5, V - 1, 4000};
  Vec d(N * V);
  const double loss = softmax_cross_entropy<double>(logits.data(), d.data(), nullptr, y.data(), N, V);
  std::vector<float> fd(logits.begin(), logits.end());
  const double floss = softmax_cross_entropy<float>(fd.data(), fd.data(), nullptr, y.data(), N, V);
  EXPECT_NEAR(floss, loss, 1e-5 * loss);
  for (int64_t i = 0; i < N * V; ++i) ASSERT_NEAR(fd[i], d[i], 1e-5 * std::abs(d[i]) + 1e-12) << i;
}

TEST(CrossEntropy, Bf16GradientIsTheRoundedFloatGradientBitwise) {
  const int64_t N = 5, V = 1000;
  const Vec logits = randn(N * V, 13, 2.0);
  const std::vector<int32_t> y{3, kIgnoreTarget, V - 1, 0, 517};
  const std::vector<float> x(logits.begin(), logits.end());
  std::vector<float> d(N * V);
  const double loss = softmax_cross_entropy<float>(x.data(), d.data(), nullptr, y.data(), N, V);
  std::vector<uint16_t> db(N * V);
  EXPECT_EQ(softmax_cross_entropy_bf16_grad(x.data(), db.data(), y.data(), N, V), loss);
  for (int64_t i = 0; i < N * V; ++i) ASSERT_EQ(db[i], bf16(d[i]).bits) << i;
  for (int64_t i = V; i < 2 * V; ++i) ASSERT_EQ(db[i], 0) << "an ignored row has no gradient";
}

TEST(AdamW, FirstStepMovesByLearningRateTimesSign) {
  // Step 1: m_hat = g and v_hat = g^2, so the update is lr * (g/|g| + wd * p) (eps aside).
  Vec p{1.0, -2.0, 0.5}, g{0.3, -4.0, 1e-3}, m(3, 0.0), v(3, 0.0);
  AdamWHyper hp;
  hp.lr = 0.1;
  hp.weight_decay = 0.5;
  hp.eps = 0.0;
  adamw_update<double>(p.data(), g.data(), m.data(), v.data(), 3, hp, true);
  EXPECT_NEAR(p[0], 1.0 - 0.1 * (1 + 0.5 * 1.0), 1e-12);
  EXPECT_NEAR(p[1], -2.0 - 0.1 * (-1 + 0.5 * -2.0), 1e-12);
  EXPECT_NEAR(p[2], 0.5 - 0.1 * (1 + 0.5 * 0.5), 1e-12);
  EXPECT_NEAR(m[1], 0.1 * -4.0, 1e-12);
  EXPECT_NEAR(v[1], 0.05 * 16.0, 1e-12);
  Vec q{1.0}, gq{0.3}, mq{0.0}, vq{0.0};
  adamw_update<double>(q.data(), gq.data(), mq.data(), vq.data(), 1, hp, false);  // no decay
  EXPECT_NEAR(q[0], 0.9, 1e-12);
}

TEST(VecMath, FloatExpAndTanhApproximationsAreAccurate) {
  double worst_exp = 0, worst_tanh = 0;
  for (double x = -80.0; x <= 80.0; x += 0.01) {
    const float xf = static_cast<float>(x);
    const double e = std::exp(static_cast<double>(xf));
    worst_exp = std::max(worst_exp, std::abs(exp_approx(xf) - e) / e);
    worst_tanh = std::max(worst_tanh, std::abs(vtanh(xf) - std::tanh(static_cast<double>(xf))));
  }
  EXPECT_LT(worst_exp, 3e-7);
  EXPECT_LT(worst_tanh, 2e-7);
  EXPECT_GT(exp_approx(-1000.0f), 0.0f);  // clamped, finite
  EXPECT_TRUE(std::isfinite(exp_approx(1000.0f)));
  EXPECT_EQ(vexp(1.0), std::exp(1.0));    // double stays exact
}
