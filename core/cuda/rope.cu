// Rotary position embedding, rotate-half layout, in place on the q and k heads of qkv rows.
#include <cmath>

#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

// One thread per (token, head among the NH+NKV rotated ones, pair i < D/2). sign: +1 forward,
// -1 backward (the inverse rotation).
template <typename T>
__global__ void rope_kernel(T* x, int64_t N, int64_t Tlen, int64_t heads, int64_t D, int64_t ld,
                            float log_theta, float sign) {
  const int64_t half = D / 2;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * heads * half;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / (heads * half), h = (i / half) % heads, k = i % half;
    const float inv_freq = expf(-2.0f * static_cast<float>(k) / static_cast<float>(D) * log_theta);
    float s, c;
    sincosf(static_cast<float>(n % Tlen) * inv_freq, &s, &c);
    s *= sign;
    T* v = x + n * ld + h * D;
    const float a = to_f32(v[k]), b = to_f32(v[k + half]);
    v[k] = from_f32<T>(a * c - b * s);
    v[k + half] = from_f32<T>(b * c + a * s);
  }
}

void rope(GpuContext& ctx, const Tensor& qkv, int64_t NH, int64_t NKV, int64_t D, double theta, float sign) {
  TESSERA_CHECK(D % 2 == 0, "RoPE needs an even head dimension, got {}", D);
  TESSERA_CHECK(qkv.dim() == 3 && qkv.size(2) == (NH + 2 * NKV) * D, "qkv must be (B,T,(NH+2*NKV)*D), got {}",
                shape_str(qkv.shape()));
  check_gpu(qkv, "qkv", qkv.dtype());
  const int64_t Tlen = qkv.size(1), N = qkv.size(0) * Tlen, ld = qkv.size(2), heads = NH + NKV;
  // The q heads and the k heads are adjacent in each row: one pass rotates both.
  dispatch_gpu(qkv.dtype(), [&]<typename T>() {
    rope_kernel<T><<<grid_for(N * heads * (D / 2), 256), 256, 0, stream_of(ctx)>>>(
        ptr<T>(qkv), N, Tlen, heads, D, ld, static_cast<float>(std::log(theta)), sign);
  });
  check_launch();
}

}  // namespace

void rope_forward(GpuContext& ctx, const Tensor& qkv, int64_t NH, int64_t NKV, int64_t D, double theta) {
  rope(ctx, qkv, NH, NKV, D, theta, 1.0f);
}

void rope_backward(GpuContext& ctx, const Tensor& dqkv, int64_t NH, int64_t NKV, int64_t D, double theta) {
  rope(ctx, dqkv, NH, NKV, D, theta, -1.0f);
}

}  // namespace tessera::core::cuda
