// Fused softmax + cross-entropy: one block per row; per-row losses are summed on the host in row
// order (deterministic).
#include <vector>

#include "core/cpu/cross_entropy.h"
#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void cross_entropy_kernel(const T* logits, T* dlogits, float* losses, const int32_t* targets,
                                     int64_t V, float grad_scale) {
  const int64_t n = blockIdx.x;
  const T* x = logits + n * V;
  const int32_t y = targets[n];
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) mx = fmaxf(mx, to_f32(x[i]));
  mx = block_reduce<true>(mx);
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) sum += expf(to_f32(x[i]) - mx);
  sum = block_reduce<false>(sum);
  const float target_logit = y >= 0 ? to_f32(x[y]) : 0.0f;  // read before dlogits overwrites x
  __syncthreads();
  if (dlogits) {
    T* d = dlogits + n * V;
    const float s = y >= 0 ? grad_scale / sum : 0.0f;
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
      const float onehot = i == y ? grad_scale : 0.0f;
      d[i] = from_f32<T>(expf(to_f32(x[i]) - mx) * s - onehot);
    }
  }
  if (threadIdx.x == 0) losses[n] = y >= 0 ? logf(sum) + mx - target_logit : 0.0f;
}

}  // namespace

double softmax_cross_entropy(GpuContext& ctx, const Tensor& logits, const Tensor& dlogits,
                             const Tensor& targets) {
  const int64_t V = logits.size(-1), N = logits.numel() / V;
  check_gpu(logits, "logits", logits.dtype());
  check_gpu(targets, "targets", DType::i32);
  TESSERA_CHECK(targets.numel() == N, "{} targets for {} rows of logits", targets.numel(), N);
  if (dlogits.defined()) check_gpu(dlogits, "dlogits", logits.dtype());
  const Tensor host_targets = targets.to_device(Device::cpu);
  const int32_t* y = host_targets.data<int32_t>();
  int64_t n_valid = 0;
  for (int64_t n = 0; n < N; ++n) {
    TESSERA_CHECK(y[n] == cpu::kIgnoreTarget || (y[n] >= 0 && y[n] < V), "target id {} at row {} is outside [0, {})",
                  y[n], n, V);
    if (y[n] != cpu::kIgnoreTarget) ++n_valid;
  }
  const float grad_scale = n_valid > 0 ? 1.0f / static_cast<float>(n_valid) : 0.0f;
  const Tensor losses = Tensor::empty({N}, DType::f32, Device::cuda);
  dispatch_gpu(logits.dtype(), [&]<typename T>() {
    cross_entropy_kernel<T><<<static_cast<unsigned>(N), kThreads, 0, stream_of(ctx)>>>(
        ptr<T>(logits), ptr<T>(dlogits), ptr<float>(losses), ptr<int32_t>(targets), V, grad_scale);
  });
  check_launch();
  ctx.synchronize();
  const Tensor host = losses.to_device(Device::cpu);
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) total += host.data<float>()[n];
  return n_valid > 0 ? total / static_cast<double>(n_valid) : 0.0;
}

}  // namespace tessera::core::cuda
