// The GPU int8 linear layer against the CPU one: the same quantised weight and inputs give the
// same bits (integer dot products, then the same round-to-nearest float steps). Skips when no GPU
// is visible (and in builds without CUDA).
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cpu/linear_int8.h"
#include "core/cpu/quant.h"
#include "core/cuda/linear_int8.h"
#include "core/device.h"
#include "tests/support/gpu.h"
#include "tests/support/random.h"

using namespace tessera::core;
using Vec = std::vector<float>;

namespace {

using tessera::testing_support::randn;

Tensor upload(const Vec& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t.to_device(Device::cuda);
}

Vec download(const Tensor& t) {
  const Tensor h = t.to_device(Device::cpu);
  return Vec(h.data<float>(), h.data<float>() + h.numel());
}

}  // namespace

TEST(GpuLinearInt8, MatchesTheCpuKernelBitForBit) {
  TESSERA_GPU_OR_SKIP();
  cuda::GpuContext ctx(0);
  const std::vector<std::array<int64_t, 3>> shapes = {  // N, C, OC
      {1, 768, 2304}, {1, 45, 77}, {5, 768, 768}, {33, 3072, 130}, {7, 768, 50304}};
  uint32_t seed = 1;
  for (const auto& [N, C, OC] : shapes) {
    Vec x = randn(static_cast<size_t>(N * C), seed++);
    if (N > 1) {
      for (int64_t k = 0; k < C; ++k) x[static_cast<size_t>(C + k)] = std::abs(x[static_cast<size_t>(C + k)]);  // zp = 0
    }
    const Vec wf = randn(static_cast<size_t>(OC * C), seed++, 0.02f);
    const Vec bias = randn(static_cast<size_t>(OC), seed++), res = randn(static_cast<size_t>(N * OC), seed++);
    const cpu::QuantizedWeight w = cpu::quantize_weight(wf.data(), OC, C);
    const cuda::GpuQuantizedWeight gw = cuda::upload_quantized(w);
    for (bool with_res : {false, true}) {
      Vec want(static_cast<size_t>(N * OC));
      cpu::linear_int8_forward_residual(want.data(), x.data(), w, bias.data(),
                                        with_res ? res.data() : nullptr, N);
      const Tensor out = Tensor::empty({N, OC}, DType::f32, Device::cuda);
      cuda::linear_int8_forward(ctx, out, upload(x, {N, C}), gw, upload(bias, {OC}),
                                with_res ? upload(res, {N, OC}) : Tensor());
      ctx.synchronize();
      const Vec got = download(out);
      size_t diff = 0;
      for (size_t i = 0; i < got.size(); ++i) diff += std::memcmp(&got[i], &want[i], 4) != 0;
      EXPECT_EQ(diff, 0u) << "N=" << N << " C=" << C << " OC=" << OC << " residual=" << with_res
                          << " (first: " << got[0] << " vs " << want[0] << ")";
    }
  }
}
