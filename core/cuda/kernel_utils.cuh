#pragma once
// Shared pieces of the CUDA kernels: element conversions, dtype dispatch, reductions, launch
// geometry and argument checks.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "core/cuda/cuda_check.h"
#include "core/cuda/ops.h"

namespace tessera::core::cuda {

template <typename T> __device__ __forceinline__ float to_f32(T x);
template <> __device__ __forceinline__ float to_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ float to_f32<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

// p[i] += v, in T (atomic: several threads may add to one element).
template <typename T> __device__ __forceinline__ void atomic_add(T* p, float v);
template <> __device__ __forceinline__ void atomic_add<float>(float* p, float v) { atomicAdd(p, v); }
template <> __device__ __forceinline__ void atomic_add<__nv_bfloat16>(__nv_bfloat16* p, float v) {
  atomicAdd(p, __float2bfloat16(v));
}

// Calls fn.template operator()<T>() with T = float or __nv_bfloat16 for the tensor's dtype.
template <typename Fn>
void dispatch_gpu(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: fn.template operator()<float>(); break;
    case DType::bf16: fn.template operator()<__nv_bfloat16>(); break;
    default: TESSERA_FAIL("no GPU kernel computes in dtype {}", dtype_name(t));
  }
}

inline cudaStream_t stream_of(const GpuContext& ctx) { return static_cast<cudaStream_t>(ctx.stream()); }

inline unsigned grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

// An operand check: defined, on the GPU, contiguous, of the expected dtype (when given).
inline void check_gpu(const Tensor& t, const char* what, DType dtype) {
  TESSERA_CHECK(t.defined() && t.device() == Device::cuda && t.is_contiguous(),
                "{} must be a contiguous CUDA tensor", what);
  TESSERA_CHECK(t.dtype() == dtype, "{} has dtype {}, expected {}", what, dtype_name(t.dtype()),
                dtype_name(dtype));
}

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw()) : nullptr;
}

inline void check_launch() { CUDA_CHECK(cudaGetLastError()); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide reductions (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
template <bool kMax>
__device__ float block_reduce(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float r = lane < warps ? partial[lane] : (kMax ? -INFINITY : 0.0f);
  r = kMax ? warp_max(r) : warp_sum(r);
  return r;
}

}  // namespace tessera::core::cuda
