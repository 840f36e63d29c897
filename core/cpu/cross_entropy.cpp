#include "core/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

// One row: writes e^(x_i - mx) into d (which may be x itself) and returns their sum in double.
template <typename T>
TESSERA_SIMD_CLONES double exp_sum_row(const T* x, T* d, T mx, int64_t V) {
#pragma omp simd
  for (int64_t i = 0; i < V; ++i) d[i] = vexp(x[i] - mx);
  return sum_as_double(d, V);
}

template <typename T>
TESSERA_SIMD_CLONES T max_row(const T* x, int64_t V) {
  T mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int64_t i = 1; i < V; ++i) mx = std::max(mx, x[i]);
  return mx;
}

template <typename T>
TESSERA_SIMD_CLONES void scale_row(T* d, T s, int64_t V) {
  for (int64_t i = 0; i < V; ++i) d[i] *= s;
}

// One row's loss (0 when ignored); with want_grad, d becomes the row of dlogits.
template <typename T>
double row_loss_and_grad(const T* x, T* d, bool want_grad, int32_t y, int64_t V, T grad_scale) {
  const T mx = max_row(x, V);
  const T target_logit = y == kIgnoreTarget ? T(0) : x[y];  // read before d overwrites x
  const double sum = exp_sum_row(x, d, mx, V);
  if (want_grad) {
    scale_row(d, y == kIgnoreTarget ? T(0) : static_cast<T>(1.0 / sum) * grad_scale, V);
    if (y != kIgnoreTarget) d[y] -= grad_scale;
  }
  if (y == kIgnoreTarget) return 0.0;
  return std::log(sum) + static_cast<double>(mx) - static_cast<double>(target_logit);
}

}  // namespace

template <typename T>
double softmax_cross_entropy(const T* logits, T* dlogits, T* losses, const int32_t* targets,
                             int64_t N, int64_t V) {
  int64_t n_valid = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int32_t y = targets[n];
    TESSERA_CHECK(y == kIgnoreTarget || (y >= 0 && y < V),
                  "target id {} at row {} is outside [0, {})", y, n, V);
    if (y != kIgnoreTarget) ++n_valid;
  }
  const T grad_scale = n_valid > 0 ? T(1) / static_cast<T>(n_valid) : T(0);
  std::vector<double> row_loss(static_cast<size_t>(N), 0.0);
#pragma omp parallel if (parallel_worth(N * V))
  {
    // Without dlogits the exponentials go to a scratch row.
    std::vector<T> scratch(dlogits ? 0 : static_cast<size_t>(V));
#pragma omp for
    for (int64_t n = 0; n < N; ++n) {
      T* d = dlogits ? dlogits + n * V : scratch.data();
      row_loss[n] = row_loss_and_grad(logits + n * V, d, dlogits != nullptr, targets[n], V, grad_scale);
    }
  }
  // Summed in row order: the mean does not depend on the thread count.
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    total += row_loss[n];
    if (losses) losses[n] = static_cast<T>(row_loss[n]);
  }
  return n_valid > 0 ? total / static_cast<double>(n_valid) : 0.0;
}

template double softmax_cross_entropy<float>(const float*, float*, float*, const int32_t*, int64_t,
                                             int64_t);
template double softmax_cross_entropy<double>(const double*, double*, double*, const int32_t*,
                                              int64_t, int64_t);

}  // namespace tessera::core::cpu
