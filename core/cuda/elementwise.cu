// Elementwise kernels: GELU, SwiGLU, the residual add and AdamW.
#include <cmath>

#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

#define TESSERA_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

template <typename T>
__global__ void gelu_forward_kernel(T* out, const T* inp, int64_t n) {
  TESSERA_GRID_STRIDE(i, n) {
    const float x = to_f32(inp[i]);
    out[i] = from_f32<T>(0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluCubic * x * x * x))));
  }
}

template <typename T>
__global__ void gelu_backward_kernel(T* dinp, const T* inp, const T* dout, int64_t n) {
  TESSERA_GRID_STRIDE(i, n) {
    const float x = to_f32(inp[i]);
    const float th = tanhf(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
    const float grad = 0.5f * (1.0f + th) +
                       0.5f * x * (1.0f - th * th) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    dinp[i] = from_f32<T>(grad * to_f32(dout[i]));
  }
}

template <typename T>
__global__ void swiglu_forward_kernel(T* out, const T* gate, const T* up, int64_t n) {
  TESSERA_GRID_STRIDE(i, n) {
    const float g = to_f32(gate[i]);
    out[i] = from_f32<T>(g / (1.0f + expf(-g)) * to_f32(up[i]));
  }
}

template <typename T>
__global__ void swiglu_backward_kernel(T* dgate, T* dup, const T* dout, const T* gate, const T* up,
                                       int64_t n) {
  TESSERA_GRID_STRIDE(i, n) {
    const float g = to_f32(gate[i]), u = to_f32(up[i]), d = to_f32(dout[i]);
    const float s = 1.0f / (1.0f + expf(-g));
    dgate[i] = from_f32<T>(d * u * s * (1.0f + g * (1.0f - s)));
    dup[i] = from_f32<T>(d * g * s);
  }
}

template <typename T>
__global__ void residual_add_kernel(T* x, const T* y, int64_t n) {
  TESSERA_GRID_STRIDE(i, n) { x[i] = from_f32<T>(to_f32(x[i]) + to_f32(y[i])); }
}

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr,
                             float b1, float b2, float c1, float c2, float eps, float wd) {
  TESSERA_GRID_STRIDE(i, n) {
    const float mi = b1 * m[i] + (1.0f - b1) * g[i];
    const float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * c1 / (sqrtf(vi * c2) + eps) + wd * p[i]);
  }
}

#undef TESSERA_GRID_STRIDE

void check_same(const Tensor& a, const Tensor& b, const char* what) {
  check_gpu(a, what, b.dtype());
  TESSERA_CHECK(a.numel() == b.numel(), "{}: {} elements, expected {}", what, a.numel(), b.numel());
}

}  // namespace

void gelu_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp) {
  check_same(out, inp, "gelu out");
  dispatch_gpu(inp.dtype(), [&]<typename T>() {
    gelu_forward_kernel<T><<<grid_for(inp.numel(), 256), 256, 0, stream_of(ctx)>>>(ptr<T>(out), ptr<T>(inp), inp.numel());
  });
  check_launch();
}

void gelu_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& inp, const Tensor& dout) {
  check_same(dinp, inp, "gelu dinp");
  check_same(dout, inp, "gelu dout");
  dispatch_gpu(inp.dtype(), [&]<typename T>() {
    gelu_backward_kernel<T><<<grid_for(inp.numel(), 256), 256, 0, stream_of(ctx)>>>(ptr<T>(dinp), ptr<T>(inp), ptr<T>(dout), inp.numel());
  });
  check_launch();
}

void swiglu_forward(GpuContext& ctx, const Tensor& out, const Tensor& gate, const Tensor& up) {
  check_same(out, gate, "swiglu out");
  check_same(up, gate, "swiglu up");
  dispatch_gpu(gate.dtype(), [&]<typename T>() {
    swiglu_forward_kernel<T><<<grid_for(gate.numel(), 256), 256, 0, stream_of(ctx)>>>(ptr<T>(out), ptr<T>(gate), ptr<T>(up), gate.numel());
  });
  check_launch();
}

void swiglu_backward(GpuContext& ctx, const Tensor& dgate, const Tensor& dup, const Tensor& dout,
                     const Tensor& gate, const Tensor& up) {
  check_same(dgate, gate, "swiglu dgate");
  check_same(dup, gate, "swiglu dup");
  check_same(dout, gate, "swiglu dout");
  check_same(up, gate, "swiglu up");
  dispatch_gpu(gate.dtype(), [&]<typename T>() {
    swiglu_backward_kernel<T><<<grid_for(gate.numel(), 256), 256, 0, stream_of(ctx)>>>(
        ptr<T>(dgate), ptr<T>(dup), ptr<T>(dout), ptr<T>(gate), ptr<T>(up), gate.numel());
  });
  check_launch();
}

void residual_add(GpuContext& ctx, const Tensor& x, const Tensor& y) {
  check_same(y, x, "residual y");
  dispatch_gpu(x.dtype(), [&]<typename T>() {
    residual_add_kernel<T><<<grid_for(x.numel(), 256), 256, 0, stream_of(ctx)>>>(ptr<T>(x), ptr<T>(y), x.numel());
  });
  check_launch();
}

void adamw_update(GpuContext& ctx, const Tensor& param, const Tensor& grad, const Tensor& m,
                  const Tensor& v, const cpu::AdamWHyper& hp, bool decay) {
  check_gpu(param, "adamw param", DType::f32);
  check_same(grad, param, "adamw grad");
  check_same(m, param, "adamw m");
  check_same(v, param, "adamw v");
  TESSERA_CHECK(hp.step >= 1, "AdamW step must be >= 1, got {}", hp.step);
  const double t = static_cast<double>(hp.step);
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(hp.beta1, t)));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(hp.beta2, t)));
  adamw_kernel<<<grid_for(param.numel(), 256), 256, 0, stream_of(ctx)>>>(
      ptr<float>(param), ptr<float>(grad), ptr<float>(m), ptr<float>(v), param.numel(),
      static_cast<float>(hp.lr), static_cast<float>(hp.beta1), static_cast<float>(hp.beta2), c1, c2,
      static_cast<float>(hp.eps), decay ? static_cast<float>(hp.weight_decay) : 0.0f);
  check_launch();
}

}  // namespace tessera::core::cuda
