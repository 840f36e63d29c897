#pragma once
// Math for elementwise kernels that the compiler can vectorise.
//
// libm's expf/tanhf are scalar calls (no -ffast-math here), which made GELU and the softmax the
// slowest non-GEMM parts of a training step. The float versions below are branch-free polynomial
// approximations (relative error below 3e-7, i.e. a few ulp) that vectorise; the double versions
// stay exact libm calls, so double-precision gradient checks keep their full accuracy.
//
// TESSERA_SIMD_CLONES compiles a function for AVX-512 (x86-64-v4), AVX2 (v3) and the baseline,
// and picks one at load time: the build needs no -march flag and runs on any x86-64. (OpenMP
// outlines parallel-loop bodies into new functions that would not inherit the attribute, so cloned
// functions are the per-chunk workers called from parallel loops.)
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define TESSERA_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TESSERA_SIMD_CLONES
#endif

namespace tessera::core::cpu {

// e^x for float: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 Taylor polynomial, 2^n by
// building the exponent bits. Inputs are clamped to [-87, 88] (results stay normal and finite).
inline float exp_approx(float x) {
  x = std::max(-87.0f, std::min(88.0f, x));  // min/max instructions: the loop stays vectorised
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float shifted = x * kLog2e + kRound;
  const float n = shifted - kRound;
  const int32_t ni = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;  // ln2 hi + lo
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * std::bit_cast<float>((ni + 127) << 23);
}

template <typename T> inline T vexp(T x) { return std::exp(x); }
template <> inline float vexp<float>(float x) { return exp_approx(x); }

// tanh(x) = 1 - 2 / (e^{2x} + 1): absolute error ~1e-7 (relative error grows for |x| < 1e-3,
// where GELU's 0.5 x (1 + tanh) does not notice it).
template <typename T> inline T vtanh(T x) { return std::tanh(x); }
template <> inline float vtanh<float>(float x) { return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f); }

template <typename T> inline T vsigmoid(T x) { return T(1) / (T(1) + vexp(-x)); }

// The lanes of a lane-split reduction combined as a fixed halving tree (lane l with l + L/2, ...),
// so the result has one order whatever the ISA. Inline into cloned callers.
template <typename T, int L, typename Op>
inline T reduce_lanes(T (&acc)[L], Op op) {
  static_assert(L > 0 && (L & (L - 1)) == 0, "a power-of-two number of lanes");
  for (int width = L / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] = op(acc[l], acc[l + width]);
  }
  return acc[0];
}

// max of x[0..n), n >= 1, in 16 lanes: GCC turns `omp simd reduction(max)` over std::max into a
// serial chain of scalar maxima, but vectorises independent lanes written as a comparison.
// Inline into cloned callers.
template <typename T>
inline T max_lanes(const T* x, int64_t n) {
  constexpr int kLanes = 16;
  if (n < kLanes) return *std::max_element(x, x + n);
  T acc[kLanes];
  std::copy(x, x + kLanes, acc);
  int64_t i = kLanes;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
  }
  for (; i < n; ++i) acc[0] = std::max(acc[0], x[i]);
  return reduce_lanes(acc, [](T a, T b) { return std::max(a, b); });
}

}  // namespace tessera::core::cpu
