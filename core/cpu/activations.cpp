#include "core/cpu/activations.h"

#include <algorithm>

#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"

namespace tessera::core::cpu {

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;

template <typename T>
TESSERA_SIMD_CLONES void gelu_chunk(T* out, const T* inp, int64_t n) {
  const T a = static_cast<T>(kSqrt2OverPi), b = static_cast<T>(kGeluCubic);
  for (int64_t i = 0; i < n; ++i) {
    const T x = inp[i];
    out[i] = T(0.5) * x * (T(1) + vtanh(a * (x + b * x * x * x)));
  }
}

template <typename T>
TESSERA_SIMD_CLONES void gelu_backward_chunk(T* dinp, const T* inp, const T* dout, int64_t n) {
  const T a = static_cast<T>(kSqrt2OverPi), b = static_cast<T>(kGeluCubic);
  for (int64_t i = 0; i < n; ++i) {
    const T x = inp[i];
    const T th = vtanh(a * (x + b * x * x * x));
    const T sech2 = T(1) - th * th;
    const T grad = T(0.5) * (T(1) + th) + T(0.5) * x * sech2 * a * (T(1) + T(3) * b * x * x);
    dinp[i] = grad * dout[i];
  }
}

template <typename T>
TESSERA_SIMD_CLONES void swiglu_chunk(T* out, const T* gate, const T* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] * vsigmoid(gate[i]) * up[i];
}

template <typename T>
TESSERA_SIMD_CLONES void swiglu_backward_chunk(T* dgate, T* dup, const T* dout, const T* gate,
                                               const T* up, int64_t n) {
  // d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g)
  for (int64_t i = 0; i < n; ++i) {
    const T g = gate[i], d = dout[i];  // read before dgate (which may be dout) is written
    const T s = vsigmoid(g);
    dgate[i] = d * up[i] * s * (T(1) + g * (T(1) - s));
    dup[i] = d * g * s;
  }
}

}  // namespace

template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n) {
  parallel_chunks(n, [&](int64_t i, int64_t m) { gelu_chunk(out + i, inp + i, m); });
}

template <typename T>
void gelu_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
  parallel_chunks(n, [&](int64_t i, int64_t m) { gelu_backward_chunk(dinp + i, inp + i, dout + i, m); });
}

template <typename T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n) {
  parallel_chunks(n, [&](int64_t i, int64_t m) { swiglu_chunk(out + i, gate + i, up + i, m); });
}

template <typename T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n) {
  parallel_chunks(n, [&](int64_t i, int64_t m) {
    swiglu_backward_chunk(dgate + i, dup + i, dout + i, gate + i, up + i, m);
  });
}

#define TESSERA_INSTANTIATE(T)                                                    \
  template void gelu_forward<T>(T*, const T*, int64_t);                           \
  template void gelu_backward<T>(T*, const T*, const T*, int64_t);                \
  template void swiglu_forward<T>(T*, const T*, const T*, int64_t);               \
  template void swiglu_backward<T>(T*, T*, const T*, const T*, const T*, int64_t);
TESSERA_INSTANTIATE(float)
TESSERA_INSTANTIATE(double)
#undef TESSERA_INSTANTIATE

}  // namespace tessera::core::cpu
