// GPU kernels against the CPU reference kernels, in f32 and bf16. Skips when no GPU is visible
// (and in builds without CUDA). Tolerances: f32 differs from the CPU only by summation order
// (~1e-5 relative); bf16 keeps 8 significant bits, so inputs and outputs carry ~0.4% rounding each.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/cpu/activations.h"
#include "core/cpu/adamw.h"
#include "core/cpu/attention.h"
#include "core/cpu/cross_entropy.h"
#include "core/cpu/embedding.h"
#include "core/cpu/gemm.h"
#include "core/cpu/layernorm.h"
#include "core/cpu/linear.h"
#include "core/cpu/rmsnorm.h"
#include "core/cpu/rope.h"
#include "core/cuda/flat_ops.h"
#include "core/cuda/ops.h"
#include "core/device.h"
#include "tests/support/gpu.h"
#include "tests/support/random.h"

using namespace tessera::core;
using Vec = std::vector<float>;

namespace {

using tessera::testing_support::randn;

// The values a bf16 tensor would hold: the CPU reference then sees the same inputs as the GPU.
Vec rounded(const Vec& v, DType dt) {
  if (dt == DType::f32) return v;
  Vec r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<float>(bf16(v[i]));
  return r;
}

Tensor upload(const Vec& v, const Shape& shape, DType dt) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t.to(dt).to_device(Device::cuda);
}

Tensor upload_ids(const std::vector<int32_t>& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::i32);
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t.to_device(Device::cuda);
}

Vec download(const Tensor& t) {
  const Tensor h = t.to_device(Device::cpu).to(DType::f32);
  return Vec(h.data<float>(), h.data<float>() + h.numel());
}

void expect_close(const Vec& got, const Vec& want, double rel, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (float w : want) scale = std::max(scale, static_cast<double>(std::abs(w)));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], rel * std::max(1.0, scale)) << what << " element " << i;
  }
}

class GpuOps : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    TESSERA_GPU_OR_SKIP();
    ctx = std::make_unique<cuda::GpuContext>(0);
  }
  DType dt() const { return GetParam(); }
  double tol() const { return dt() == DType::f32 ? 1e-4 : 3e-2; }
  std::unique_ptr<cuda::GpuContext> ctx;
};

}  // namespace

TEST_P(GpuOps, GemmAllTransposes) {
  const int64_t M = 33, N = 47, K = 65;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const Vec a = rounded(randn(M * K, 1), dt()), b = rounded(randn(K * N, 2), dt());
      Vec c(M * N);
      cpu::gemm<float>(ta, tb, M, N, K, 1.0f, a.data(), ta ? M : K, b.data(), tb ? K : N, 0.0f, c.data(), N);
      const Tensor gc = Tensor::empty({M, N}, dt(), Device::cuda);
      cuda::gemm(*ctx, ta, tb, upload(a, ta ? Shape{K, M} : Shape{M, K}, dt()),
                 upload(b, tb ? Shape{N, K} : Shape{K, N}, dt()), gc);
      expect_close(download(gc), c, tol(), "gemm");
    }
  }
}

TEST_P(GpuOps, LinearForwardBackward) {
  const int64_t N = 20, C = 24, OC = 40;
  const Vec x = rounded(randn(N * C, 1), dt()), w = rounded(randn(OC * C, 2, 0.2f), dt()),
            b = rounded(randn(OC, 3), dt()), g = rounded(randn(N * OC, 4), dt());
  Vec out(N * OC), dx(N * C, 0.0f), dw(OC * C, 0.0f), db(OC, 0.0f);
  cpu::linear_forward<float>(out.data(), x.data(), w.data(), b.data(), N, C, OC);
  cpu::linear_backward<float>(dx.data(), dw.data(), db.data(), g.data(), x.data(), w.data(), N, C, OC);
  const Tensor gx = upload(x, {N, C}, dt()), gw = upload(w, {OC, C}, dt()), gb = upload(b, {OC}, dt());
  const Tensor gout = Tensor::empty({N, OC}, dt(), Device::cuda);
  cuda::linear_forward(*ctx, gout, gx, gw, gb);
  expect_close(download(gout), out, tol(), "out");
  const Tensor gdx = Tensor::zeros({N, C}, dt(), Device::cuda), gdw = Tensor::zeros({OC, C}, dt(), Device::cuda),
               gdb = Tensor::zeros({OC}, dt(), Device::cuda);
  cuda::linear_backward(*ctx, gdx, gdw, gdb, upload(g, {N, OC}, dt()), gx, gw);
  expect_close(download(gdx), dx, tol(), "dinp");
  expect_close(download(gdw), dw, tol(), "dweight");
  expect_close(download(gdb), db, tol(), "dbias");
}

TEST_P(GpuOps, NormsForwardBackward) {
  const int64_t N = 10, C = 96;
  const Vec x = rounded(randn(N * C, 1, 2.0f), dt()), w = rounded(randn(C, 2), dt()),
            b = rounded(randn(C, 3), dt()), g = rounded(randn(N * C, 4), dt());
  Vec out(N * C), mean(N), rstd(N), dx(N * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
  cpu::layernorm_forward<float>(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
  cpu::layernorm_backward<float>(dx.data(), dw.data(), db.data(), g.data(), x.data(), w.data(), mean.data(),
                                 rstd.data(), N, C);
  const Tensor gx = upload(x, {N, C}, dt()), gw = upload(w, {C}, dt()), gb = upload(b, {C}, dt());
  const Tensor gout = Tensor::empty({N, C}, dt(), Device::cuda), gmean = Tensor::empty({N}, DType::f32, Device::cuda),
               grstd = Tensor::empty({N}, DType::f32, Device::cuda);
  cuda::layernorm_forward(*ctx, gout, gmean, grstd, gx, gw, gb);
  expect_close(download(gout), out, tol(), "layernorm out");
  const Tensor gdx = Tensor::zeros({N, C}, dt(), Device::cuda), gdw = Tensor::zeros({C}, dt(), Device::cuda),
               gdb = Tensor::zeros({C}, dt(), Device::cuda);
  cuda::layernorm_backward(*ctx, gdx, gdw, gdb, upload(g, {N, C}, dt()), gx, gw, gmean, grstd);
  expect_close(download(gdx), dx, tol(), "layernorm dinp");
  expect_close(download(gdw), dw, tol(), "layernorm dweight");
  expect_close(download(gdb), db, tol(), "layernorm dbias");

  Vec rout(N * C), rrstd(N), rdx(N * C, 0.0f), rdw(C, 0.0f);
  cpu::rmsnorm_forward<float>(rout.data(), rrstd.data(), x.data(), w.data(), N, C);
  cpu::rmsnorm_backward<float>(rdx.data(), rdw.data(), g.data(), x.data(), w.data(), rrstd.data(), N, C);
  cuda::rmsnorm_forward(*ctx, gout, grstd, gx, gw);
  expect_close(download(gout), rout, tol(), "rmsnorm out");
  gdx.zero_();
  gdw.zero_();
  cuda::rmsnorm_backward(*ctx, gdx, gdw, upload(g, {N, C}, dt()), gx, gw, grstd);
  expect_close(download(gdx), rdx, tol(), "rmsnorm dinp");
  expect_close(download(gdw), rdw, tol(), "rmsnorm dweight");
}

TEST_P(GpuOps, Activations) {
  const int64_t n = 1000;
  const Vec x = rounded(randn(n, 1, 2.0f), dt()), u = rounded(randn(n, 2), dt()), g = rounded(randn(n, 3), dt());
  // The backward kernels write their gradients: the GPU buffers start as garbage on purpose.
  Vec out(n), dx(n), du(n);
  const Tensor gx = upload(x, {n}, dt()), gu = upload(u, {n}, dt()), gg = upload(g, {n}, dt());
  const Tensor gout = Tensor::empty({n}, dt(), Device::cuda), gdx = upload(g, {n}, dt()),
               gdu = upload(u, {n}, dt());
  cpu::gelu_forward<float>(out.data(), x.data(), n);
  cpu::gelu_backward<float>(dx.data(), x.data(), g.data(), n);
  cuda::gelu_forward(*ctx, gout, gx);
  cuda::gelu_backward(*ctx, gdx, gx, gg);
  expect_close(download(gout), out, tol(), "gelu");
  expect_close(download(gdx), dx, tol(), "gelu backward");
  cpu::swiglu_forward<float>(out.data(), x.data(), u.data(), n);
  cpu::swiglu_backward<float>(dx.data(), du.data(), g.data(), x.data(), u.data(), n);
  cuda::swiglu_forward(*ctx, gout, gx, gu);
  cuda::swiglu_backward(*ctx, gdx, gdu, gg, gx, gu);
  expect_close(download(gout), out, tol(), "swiglu");
  expect_close(download(gdx), dx, tol(), "swiglu dgate");
  expect_close(download(gdu), du, tol(), "swiglu dup");
}

TEST_P(GpuOps, RopeAndAttention) {
  const int64_t B = 2, T = 19, NH = 4, NKV = 2, D = 16, QKV = (NH + 2 * NKV) * D;
  Vec qkv = rounded(randn(B * T * QKV, 1), dt());
  const Vec g = rounded(randn(B * T * NH * D, 2), dt());
  const Tensor gqkv = upload(qkv, {B, T, QKV}, dt());
  cpu::rope_forward<float>(qkv.data(), nullptr, B, T, NH + NKV, D, QKV);  // q and k heads are adjacent
  cuda::rope_forward(*ctx, gqkv, NH, NKV, D);
  expect_close(download(gqkv), qkv, tol(), "rope");
  qkv = rounded(qkv, dt());  // the GPU stored the rotated values in dt
  Vec out(B * T * NH * D), att(B * NH * T * T), dqkv(B * T * QKV, 0.0f);
  cpu::attention_forward<float>(out.data(), att.data(), qkv.data(), B, T, NH, NKV, D);
  cpu::attention_backward<float>(dqkv.data(), g.data(), qkv.data(), att.data(), B, T, NH, NKV, D);
  const Tensor in = upload(qkv, {B, T, QKV}, dt());
  const Tensor gout = Tensor::empty({B, T, NH * D}, dt(), Device::cuda),
               gatt = Tensor::empty({B, NH, T, T}, DType::f32, Device::cuda),
               gdqkv = Tensor::zeros({B, T, QKV}, dt(), Device::cuda);
  cuda::attention_forward(*ctx, gout, gatt, in, NH, NKV, D);
  expect_close(download(gout), out, tol(), "attention out");
  expect_close(download(gatt), att, tol(), "attention probabilities");
  cuda::attention_backward(*ctx, gdqkv, upload(g, {B, T, NH * D}, dt()), in, gatt, NH, NKV, D);
  expect_close(download(gdqkv), dqkv, tol(), "attention dqkv");
  Vec back = dqkv;
  cpu::rope_backward<float>(back.data(), nullptr, B, T, NH + NKV, D, QKV);
  cuda::rope_backward(*ctx, gdqkv, NH, NKV, D);
  expect_close(download(gdqkv), back, tol(), "rope backward");
}

TEST_P(GpuOps, CrossEntropyAndEmbedding) {
  const int64_t N = 6, V = 300, C = 8, T = 3;
  const Vec logits = rounded(randn(N * V, 1, 3.0f), dt());
  const std::vector<int32_t> y{5, cpu::kIgnoreTarget, 299, 0, 17, 17};
  Vec d(N * V);
  const double loss = cpu::softmax_cross_entropy<float>(logits.data(), d.data(), nullptr, y.data(), N, V);
  const Tensor gl = upload(logits, {N, V}, dt());
  const double gloss = cuda::softmax_cross_entropy(*ctx, gl, gl, upload_ids(y, {N}));
  EXPECT_NEAR(gloss, loss, 1e-4);
  expect_close(download(gl), d, dt() == DType::f32 ? 1e-6 : 1e-3, "dlogits");
  EXPECT_THROW(cuda::softmax_cross_entropy(*ctx, gl, Tensor(), upload_ids({0, 0, 0, 0, 0, 300}, {N})),
               tessera::Error);

  const std::vector<int32_t> tok{3, 1, 3, 0, 2, 3};
  const Vec wte = rounded(randn(V * C, 2), dt()), wpe = rounded(randn(T * C, 3), dt()),
            g = rounded(randn(N * C, 4), dt());
  Vec out(N * C), dwte(V * C, 0.0f), dwpe(T * C, 0.0f);
  cpu::embedding_forward<float>(out.data(), tok.data(), nullptr, wte.data(), wpe.data(), 2, T, C, V, T);
  cpu::embedding_backward<float>(dwte.data(), dwpe.data(), g.data(), tok.data(), nullptr, 2, T, C);
  const Tensor gtok = upload_ids(tok, {2, T}), gout = Tensor::empty({2, T, C}, dt(), Device::cuda);
  cuda::embedding_forward(*ctx, gout, gtok, upload(wte, {V, C}, dt()), upload(wpe, {T, C}, dt()));
  expect_close(download(gout), out, tol(), "embedding");
  const Tensor gdwte = Tensor::zeros({V, C}, dt(), Device::cuda), gdwpe = Tensor::zeros({T, C}, dt(), Device::cuda);
  cuda::embedding_backward(*ctx, gdwte, gdwpe, upload(g, {2, T, C}, dt()), gtok);
  expect_close(download(gdwte), dwte, tol(), "dwte");
  expect_close(download(gdwpe), dwpe, tol(), "dwpe");
  EXPECT_THROW(cuda::embedding_forward(*ctx, gout, upload_ids({0, 1, 2, 3, 4, 300}, {2, T}),
                                       upload(wte, {V, C}, dt()), Tensor()),
               tessera::Error);
}

TEST_P(GpuOps, AdamW) {
  if (dt() != DType::f32) GTEST_SKIP() << "AdamW state is f32";
  const int64_t n = 777;
  Vec p = randn(n, 1), g = randn(n, 2), m = randn(n, 3, 0.1f), v(n, 0.01f);
  const Tensor gp = upload(p, {n}, dt()), gg = upload(g, {n}, dt()), gm = upload(m, {n}, dt()),
               gv = upload(v, {n}, dt());
  cpu::AdamWHyper hp;
  hp.step = 3;
  cpu::adamw_update<float>(p.data(), g.data(), m.data(), v.data(), n, hp, true);
  cuda::adamw_update(*ctx, gp, gg, gm, gv, hp, true);
  expect_close(download(gp), p, 1e-6, "param");
  expect_close(download(gm), m, 1e-6, "m");
  expect_close(download(gv), v, 1e-6, "v");
}

// The training step's whole-buffer operations: casts round to the nearest bf16 as the CPU does,
// accumulation into f32, scaling, and the squared norm against a f64 sum on the host.
TEST_P(GpuOps, FlatOps) {
  const int64_t n = 100003;  // not a multiple of any block
  const Vec x = randn(n, 1), y = randn(n, 2);
  const Tensor gx = upload(x, {n}, DType::f32);
  const Tensor gc = Tensor::empty({n}, dt(), Device::cuda);
  cuda::cast(*ctx, gc, gx);
  expect_close(download(gc), rounded(x, dt()), 0.0, "cast");
  const Tensor acc = upload(y, {n}, DType::f32);
  cuda::accumulate(*ctx, acc, gc);
  Vec want(n);
  const Vec xr = rounded(x, dt());
  for (int64_t i = 0; i < n; ++i) want[i] = y[i] + xr[i];
  expect_close(download(acc), want, 1e-7, "accumulate");
  cuda::scale(*ctx, acc, 0.5f);
  for (float& w : want) w *= 0.5f;
  expect_close(download(acc), want, 1e-7, "scale");
  double sum = 0;
  for (float w : want) sum += static_cast<double>(w) * w;
  EXPECT_NEAR(cuda::sum_squares(*ctx, acc), sum, 1e-9 * sum);
  cuda::zero(*ctx, gc);
  expect_close(download(gc), Vec(n, 0.0f), 0.0, "zero");
  EXPECT_THROW(cuda::cast(*ctx, gc, upload(x, {n - 1}, DType::f32)), tessera::Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuOps, ::testing::Values(DType::f32, DType::bf16),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

TEST(GpuOpsWithoutCuda, ReportClearly) {
  if (tessera::built_with_cuda()) GTEST_SKIP() << "built with CUDA";
  EXPECT_THROW(cuda::GpuContext ctx(0), tessera::Error);
  EXPECT_THROW(Tensor::empty({4}, DType::f32, Device::cuda), tessera::Error);
}
