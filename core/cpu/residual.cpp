#include "core/cpu/residual.h"

#include "core/cpu/parallel.h"

namespace tessera::core::cpu {

template <typename T>
void residual_add(T* x, const T* y, int64_t n) {
#pragma omp parallel for simd if (parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

template void residual_add<float>(float*, const float*, int64_t);
template void residual_add<double>(double*, const double*, int64_t);

}  // namespace tessera::core::cpu
