// LayerNorm and RMSNorm: one warp per row; norm-gain gradients gathered with atomics.
#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;

template <typename T>
__global__ void layernorm_forward_kernel(T* out, float* mean, float* rstd, const T* inp,
                                         const T* weight, const T* bias, int64_t N, int64_t C, float eps) {
  const int64_t n = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* x = inp + n * C;
  float s = 0.0f;
  for (int64_t c = lane; c < C; c += 32) s += to_f32(x[c]);
  const float m = warp_sum(s) / static_cast<float>(C);
  float var = 0.0f;
  for (int64_t c = lane; c < C; c += 32) {
    const float d = to_f32(x[c]) - m;
    var += d * d;
  }
  const float r = rsqrtf(warp_sum(var) / static_cast<float>(C) + eps);
  for (int64_t c = lane; c < C; c += 32) {
    out[n * C + c] = from_f32<T>((to_f32(x[c]) - m) * r * to_f32(weight[c]) + to_f32(bias[c]));
  }
  if (lane == 0) {
    mean[n] = m;
    rstd[n] = r;
  }
}

template <typename T>
__global__ void layernorm_backward_kernel(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                                          const T* weight, const float* mean, const float* rstd,
                                          int64_t N, int64_t C) {
  const int64_t n = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* x = inp + n * C;
  const T* d = dout + n * C;
  const float m = mean[n], r = rstd[n];
  float g_sum = 0.0f, gx_sum = 0.0f;
  for (int64_t c = lane; c < C; c += 32) {
    const float g = to_f32(d[c]) * to_f32(weight[c]);
    g_sum += g;
    gx_sum += g * (to_f32(x[c]) - m) * r;
  }
  const float g_mean = warp_sum(g_sum) / static_cast<float>(C);
  const float gx_mean = warp_sum(gx_sum) / static_cast<float>(C);
  for (int64_t c = lane; c < C; c += 32) {
    const float xhat = (to_f32(x[c]) - m) * r;
    const float dc = to_f32(d[c]);
    dinp[n * C + c] = from_f32<T>(to_f32(dinp[n * C + c]) + r * (dc * to_f32(weight[c]) - g_mean - xhat * gx_mean));
    atomic_add(dweight + c, dc * xhat);
    atomic_add(dbias + c, dc);
  }
}

template <typename T>
__global__ void rmsnorm_forward_kernel(T* out, float* rstd, const T* inp, const T* weight, int64_t N,
                                       int64_t C, float eps) {
  const int64_t n = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* x = inp + n * C;
  float ss = 0.0f;
  for (int64_t c = lane; c < C; c += 32) ss += to_f32(x[c]) * to_f32(x[c]);
  const float r = rsqrtf(warp_sum(ss) / static_cast<float>(C) + eps);
  for (int64_t c = lane; c < C; c += 32) out[n * C + c] = from_f32<T>(to_f32(x[c]) * r * to_f32(weight[c]));
  if (lane == 0) rstd[n] = r;
}

template <typename T>
__global__ void rmsnorm_backward_kernel(T* dinp, T* dweight, const T* dout, const T* inp,
                                        const T* weight, const float* rstd, int64_t N, int64_t C) {
  const int64_t n = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= N) return;
  const T* x = inp + n * C;
  const T* d = dout + n * C;
  const float r = rstd[n];
  float gx_sum = 0.0f;
  for (int64_t c = lane; c < C; c += 32) gx_sum += to_f32(d[c]) * to_f32(weight[c]) * to_f32(x[c]) * r;
  const float gx_mean = warp_sum(gx_sum) / static_cast<float>(C);
  for (int64_t c = lane; c < C; c += 32) {
    const float xhat = to_f32(x[c]) * r, dc = to_f32(d[c]);
    dinp[n * C + c] = from_f32<T>(to_f32(dinp[n * C + c]) + r * (dc * to_f32(weight[c]) - xhat * gx_mean));
    atomic_add(dweight + c, dc * xhat);
  }
}

unsigned row_blocks(int64_t N) { return static_cast<unsigned>((N + kWarpsPerBlock - 1) / kWarpsPerBlock); }

}  // namespace

void layernorm_forward(GpuContext& ctx, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                       const Tensor& inp, const Tensor& weight, const Tensor& bias, float eps) {
  const int64_t C = inp.size(-1), N = inp.numel() / C;
  const DType dt = inp.dtype();
  check_gpu(out, "layernorm out", dt);
  check_gpu(weight, "layernorm weight", dt);
  check_gpu(bias, "layernorm bias", dt);
  check_gpu(mean, "layernorm mean", DType::f32);
  check_gpu(rstd, "layernorm rstd", DType::f32);
  dispatch_gpu(dt, [&]<typename T>() {
    layernorm_forward_kernel<T><<<row_blocks(N), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(
        ptr<T>(out), ptr<float>(mean), ptr<float>(rstd), ptr<T>(inp), ptr<T>(weight), ptr<T>(bias), N, C, eps);
  });
  check_launch();
}

void layernorm_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight,
                        const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                        const Tensor& weight, const Tensor& mean, const Tensor& rstd) {
  const int64_t C = inp.size(-1), N = inp.numel() / C;
  const DType dt = inp.dtype();
  check_gpu(dinp, "layernorm dinp", dt);
  check_gpu(dweight, "layernorm dweight", dt);
  check_gpu(dbias, "layernorm dbias", dt);
  check_gpu(dout, "layernorm dout", dt);
  dispatch_gpu(dt, [&]<typename T>() {
    layernorm_backward_kernel<T><<<row_blocks(N), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(
        ptr<T>(dinp), ptr<T>(dweight), ptr<T>(dbias), ptr<T>(dout), ptr<T>(inp), ptr<T>(weight),
        ptr<float>(mean), ptr<float>(rstd), N, C);
  });
  check_launch();
}

void rmsnorm_forward(GpuContext& ctx, const Tensor& out, const Tensor& rstd, const Tensor& inp,
                     const Tensor& weight, float eps) {
  const int64_t C = inp.size(-1), N = inp.numel() / C;
  const DType dt = inp.dtype();
  check_gpu(out, "rmsnorm out", dt);
  check_gpu(weight, "rmsnorm weight", dt);
  check_gpu(rstd, "rmsnorm rstd", DType::f32);
  dispatch_gpu(dt, [&]<typename T>() {
    rmsnorm_forward_kernel<T><<<row_blocks(N), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(
        ptr<T>(out), ptr<float>(rstd), ptr<T>(inp), ptr<T>(weight), N, C, eps);
  });
  check_launch();
}

void rmsnorm_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight, const Tensor& dout,
                      const Tensor& inp, const Tensor& weight, const Tensor& rstd) {
  const int64_t C = inp.size(-1), N = inp.numel() / C;
  const DType dt = inp.dtype();
  check_gpu(dinp, "rmsnorm dinp", dt);
  check_gpu(dweight, "rmsnorm dweight", dt);
  check_gpu(dout, "rmsnorm dout", dt);
  dispatch_gpu(dt, [&]<typename T>() {
    rmsnorm_backward_kernel<T><<<row_blocks(N), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(
        ptr<T>(dinp), ptr<T>(dweight), ptr<T>(dout), ptr<T>(inp), ptr<T>(weight), ptr<float>(rstd), N, C);
  });
  check_launch();
}

}  // namespace tessera::core::cuda
