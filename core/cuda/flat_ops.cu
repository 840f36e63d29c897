// Whole-buffer kernels of the training step (flat_ops.h): grid-stride loops over numel elements.
#include <vector>

#include "core/cuda/flat_ops.h"
#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

constexpr int kThreads = 256;
constexpr unsigned kNormBlocks = 1024;

template <typename D, typename S>
__global__ void cast_kernel(D* dst, const S* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    dst[i] = from_f32<D>(to_f32(src[i]));
  }
}

template <typename S>
__global__ void accumulate_kernel(float* dst, const S* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    dst[i] += to_f32(src[i]);
  }
}

__global__ void scale_kernel(float* x, float s, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    x[i] *= s;
  }
}

// partial[block] = sum of x[i]^2 over this block's grid-stride elements, in f64 (per thread, then a
// tree over shared memory).
__global__ void sum_squares_kernel(double* partial, const float* x, int64_t n) {
  __shared__ double acc[kThreads];
  double s = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    s += static_cast<double>(x[i]) * x[i];
  }
  acc[threadIdx.x] = s;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) acc[threadIdx.x] += acc[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = acc[0];
}

void check_numel(const Tensor& a, const Tensor& b, const char* what) {
  TESSERA_CHECK(a.numel() == b.numel(), "{}: {} elements against {}", what, a.numel(), b.numel());
}

}  // namespace

void cast(GpuContext& ctx, const Tensor& dst, const Tensor& src) {
  check_gpu(dst, "cast dst", dst.dtype());
  check_gpu(src, "cast src", src.dtype());
  check_numel(dst, src, "cast");
  const int64_t n = src.numel();
  dispatch_gpu(dst.dtype(), [&]<typename D>() {
    dispatch_gpu(src.dtype(), [&]<typename S>() {
      cast_kernel<D, S><<<grid_for(n, kThreads), kThreads, 0, stream_of(ctx)>>>(ptr<D>(dst), ptr<S>(src), n);
    });
  });
  check_launch();
}

void accumulate(GpuContext& ctx, const Tensor& dst, const Tensor& src) {
  check_gpu(dst, "accumulate dst", DType::f32);
  check_gpu(src, "accumulate src", src.dtype());
  check_numel(dst, src, "accumulate");
  const int64_t n = src.numel();
  dispatch_gpu(src.dtype(), [&]<typename S>() {
    accumulate_kernel<S><<<grid_for(n, kThreads), kThreads, 0, stream_of(ctx)>>>(ptr<float>(dst), ptr<S>(src), n);
  });
  check_launch();
}

void scale(GpuContext& ctx, const Tensor& x, float s) {
  check_gpu(x, "scale", DType::f32);
  scale_kernel<<<grid_for(x.numel(), kThreads), kThreads, 0, stream_of(ctx)>>>(ptr<float>(x), s, x.numel());
  check_launch();
}

void zero(GpuContext& ctx, const Tensor& x) {
  check_gpu(x, "zero", x.dtype());
  CUDA_CHECK(cudaMemsetAsync(x.raw(), 0, x.nbytes(), stream_of(ctx)));
}

double sum_squares(GpuContext& ctx, const Tensor& x) {
  check_gpu(x, "sum_squares", DType::f32);
  const Tensor partial = Tensor::zeros({kNormBlocks}, DType::f64, Device::cuda);
  sum_squares_kernel<<<kNormBlocks, kThreads, 0, stream_of(ctx)>>>(ptr<double>(partial), ptr<float>(x), x.numel());
  check_launch();
  ctx.synchronize();
  const Tensor host = partial.to_device(Device::cpu);
  double total = 0.0;
  for (unsigned b = 0; b < kNormBlocks; ++b) total += host.data<double>()[b];
  return total;
}

}  // namespace tessera::core::cuda
