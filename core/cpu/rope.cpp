#include "core/cpu/rope.h"

#include <cmath>
#include <vector>

#include "core/cpu/parallel.h"
#include "core/error.h"

namespace tessera::core::cpu {

// sign = +1 rotates forward, -1 backward.
template <typename T>
static void rope_rotate(T* x, const int32_t* pos, int64_t B, int64_t Tlen, int64_t H, int64_t D,
                        int64_t ld, double theta, double sign) {
  TESSERA_CHECK(D % 2 == 0, "RoPE needs an even head dimension, got {}", D);
  const int64_t half = D / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    inv_freq[i] = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(D));
  }
#pragma omp parallel if (parallel_worth(B * Tlen * H * D))
  {
    std::vector<T> cos_t(static_cast<size_t>(half)), sin_t(static_cast<size_t>(half));
#pragma omp for
    for (int64_t n = 0; n < B * Tlen; ++n) {
      const double p = pos ? pos[n] : static_cast<double>(n % Tlen);
      for (int64_t i = 0; i < half; ++i) {
        // The angle in double: positions up to 1e5 times frequencies near 1 lose no precision.
        cos_t[i] = static_cast<T>(std::cos(p * inv_freq[i]));
        sin_t[i] = static_cast<T>(sign * std::sin(p * inv_freq[i]));
      }
      for (int64_t h = 0; h < H; ++h) {
        T* v = x + n * ld + h * D;
        for (int64_t i = 0; i < half; ++i) {
          const T a = v[i], b = v[i + half];
          v[i] = a * cos_t[i] - b * sin_t[i];
          v[i + half] = b * cos_t[i] + a * sin_t[i];
        }
      }
    }
  }
}

template <typename T>
void rope_forward(T* x, const int32_t* pos, int64_t B, int64_t Tlen, int64_t H, int64_t D,
                  int64_t ld, double theta) {
  rope_rotate(x, pos, B, Tlen, H, D, ld, theta, 1.0);
}

template <typename T>
void rope_backward(T* dx, const int32_t* pos, int64_t B, int64_t Tlen, int64_t H, int64_t D,
                   int64_t ld, double theta) {
  rope_rotate(dx, pos, B, Tlen, H, D, ld, theta, -1.0);
}

template void rope_forward<float>(float*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                                  int64_t, double);
template void rope_forward<double>(double*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                                   int64_t, double);
template void rope_backward<float>(float*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                                   int64_t, double);
template void rope_backward<double>(double*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                                    int64_t, double);

}  // namespace tessera::core::cpu
