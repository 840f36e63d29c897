#include "core/cpu/adamw.h"

#include <cmath>

#include "core/cpu/parallel.h"
#include "core/error.h"

namespace tessera::core::cpu {

template <typename T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t n, const AdamWHyper& hp, bool decay) {
  TESSERA_CHECK(hp.step >= 1, "AdamW step must be >= 1, got {}", hp.step);
  const double t = static_cast<double>(hp.step);
  const T b1 = static_cast<T>(hp.beta1), b2 = static_cast<T>(hp.beta2);
  const T c1 = static_cast<T>(1.0 / (1.0 - std::pow(hp.beta1, t)));
  const T c2 = static_cast<T>(1.0 / (1.0 - std::pow(hp.beta2, t)));
  const T lr = static_cast<T>(hp.lr), eps = static_cast<T>(hp.eps);
  const T wd = decay ? static_cast<T>(hp.weight_decay) : T(0);
#pragma omp parallel for simd if (parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T mi = b1 * m[i] + (T(1) - b1) * g;
    const T vi = b2 * v[i] + (T(1) - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr * (mi * c1 / (std::sqrt(vi * c2) + eps) + wd * param[i]);
  }
}

template void adamw_update<float>(float*, const float*, float*, float*, int64_t, const AdamWHyper&,
                                  bool);
template void adamw_update<double>(double*, const double*, double*, double*, int64_t,
                                   const AdamWHyper&, bool);

}  // namespace tessera::core::cpu
