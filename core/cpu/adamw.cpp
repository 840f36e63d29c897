#include "core/cpu/adamw.h"

#include <algorithm>
#include <cmath>

#include <omp.h>

#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

// The step's constants in T.
template <typename T>
struct Coefficients {
  T b1, b2, c1, c2, lr, eps, wd;
};

template <typename T>
Coefficients<T> coefficients(const AdamWHyper& hp) {
  TESSERA_CHECK(hp.step >= 1, "AdamW step must be >= 1, got {}", hp.step);
  const double t = static_cast<double>(hp.step);
  return {static_cast<T>(hp.beta1),
          static_cast<T>(hp.beta2),
          static_cast<T>(1.0 / (1.0 - std::pow(hp.beta1, t))),
          static_cast<T>(1.0 / (1.0 - std::pow(hp.beta2, t))),
          static_cast<T>(hp.lr),
          static_cast<T>(hp.eps),
          static_cast<T>(hp.weight_decay)};
}

// Vectorised (the build passes -fno-math-errno, so std::sqrt is an instruction) and cloned per ISA.
template <typename T>
TESSERA_SIMD_CLONES void update_chunk(T* param, const T* grad, T* m, T* v, int64_t n, const Coefficients<T>& k,
                  bool decay) {
  const T b1 = k.b1, b2 = k.b2, c1 = k.c1, c2 = k.c2, lr = k.lr, eps = k.eps;
  const T wd = decay ? k.wd : T(0);
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T mi = b1 * m[i] + (T(1) - b1) * g;
    const T vi = b2 * v[i] + (T(1) - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr * (mi * c1 / (std::sqrt(vi * c2) + eps) + wd * param[i]);
  }
}

// Elements [lo, hi) of the segments laid end to end.
template <typename T>
void update_range(T* param, const T* grad, T* m, T* v, const std::vector<AdamWSegment>& segments,
                  int64_t lo, int64_t hi, const Coefficients<T>& k) {
  int64_t start = 0;  // of the segment in the end-to-end numbering
  for (const AdamWSegment& s : segments) {
    const int64_t len = s.end - s.begin;
    const int64_t a = std::max(lo, start), b = std::min(hi, start + len);
    if (a < b) {
      const int64_t at = s.begin + a - start;
      update_chunk(param + at, grad + at, m + at, v + at, b - a, k, s.decay);
    }
    start += len;
  }
}

}  // namespace

template <typename T>
void adamw_update(T* param, const T* grad, T* m, T* v, const std::vector<AdamWSegment>& segments,
                  const AdamWHyper& hp) {
  const Coefficients<T> k = coefficients<T>(hp);
  int64_t total = 0;
  for (const AdamWSegment& s : segments) total += s.end - s.begin;
#pragma omp parallel if (parallel_worth(total))
  {
    const int64_t part = omp_get_thread_num(), parts = omp_get_num_threads();
    update_range(param, grad, m, v, segments, total * part / parts, total * (part + 1) / parts, k);
  }
}

template <typename T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t n, const AdamWHyper& hp, bool decay) {
  adamw_update(param, grad, m, v, std::vector<AdamWSegment>{{0, n, decay}}, hp);
}

template void adamw_update<float>(float*, const float*, float*, float*, int64_t, const AdamWHyper&,
                                  bool);
template void adamw_update<double>(double*, const double*, double*, double*, int64_t,
                                   const AdamWHyper&, bool);
template void adamw_update<float>(float*, const float*, float*, float*,
                                  const std::vector<AdamWSegment>&, const AdamWHyper&);
template void adamw_update<double>(double*, const double*, double*, double*,
                                   const std::vector<AdamWSegment>&, const AdamWHyper&);

}  // namespace tessera::core::cpu
