#include "core/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <vector>

#include "core/cpu/bf16_round.h"
#include "core/cpu/parallel.h"
#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

// One row: writes e^(x_i - mx) into d (which may be x itself) and returns their sum, in one pass.
// Each block of kSumBlock values is summed in kLanes fixed partial sums of T (16 terms each, all
// at most 1: relative error below 1e-6 in float), and the blocks' totals in double. The order is
// fixed, so a row's sum does not depend on the batch or the threading.
template <typename T>
TESSERA_SIMD_CLONES double exp_sum_row(const T* x, T* d, T mx, int64_t V) {
  constexpr int kLanes = 16;
  constexpr int64_t kSumBlock = 16 * kLanes;
  double total = 0.0;
  for (int64_t b = 0; b < V; b += kSumBlock) {
    const int64_t e = std::min(V, b + kSumBlock);
    T acc[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) {
        d[i + l] = vexp(x[i + l] - mx);
        acc[l] += d[i + l];
      }
    }
    for (int l = 0; i < e; ++i, ++l) {
      d[i] = vexp(x[i] - mx);
      acc[l] += d[i];
    }
    total += static_cast<double>(reduce_lanes(acc, std::plus<T>()));
  }
  return total;
}

template <typename T>
TESSERA_SIMD_CLONES T max_row(const T* x, int64_t V) {
  return max_lanes(x, V);
}

template <typename T>
TESSERA_SIMD_CLONES void scale_row(T* d, T s, int64_t V) {
#pragma omp simd
  for (int64_t i = 0; i < V; ++i) d[i] *= s;
}

// 1/n_valid, the gradient of the mean loss per row with a target (0 when there are none).
template <typename T>
T mean_scale(const int32_t* targets, int64_t N, int64_t* n_valid) {
  *n_valid = 0;
  for (int64_t n = 0; n < N; ++n) *n_valid += targets[n] != kIgnoreTarget;
  return *n_valid > 0 ? T(1) / static_cast<T>(*n_valid) : T(0);
}

// One row's gradient from its exponentials d (in place) and their sum; `local` is the target's
// column in this row of d, or -1 when another shard holds it (or there is no target).
template <typename T>
void row_grad(T* d, double sum, int32_t y, int64_t local, int64_t V, T grad_scale) {
  scale_row(d, y == kIgnoreTarget ? T(0) : static_cast<T>(1.0 / sum) * grad_scale, V);
  if (local >= 0) d[local] -= grad_scale;
}

// One row's loss (0 when ignored); with want_grad, d becomes the row of dlogits.
template <typename T>
double row_loss_and_grad(const T* x, T* d, bool want_grad, int32_t y, int64_t V, T grad_scale) {
  const T mx = max_row(x, V);
  const T target_logit = y == kIgnoreTarget ? T(0) : x[y];  // read before d overwrites x
  const double sum = exp_sum_row(x, d, mx, V);
  if (want_grad) row_grad(d, sum, y, y == kIgnoreTarget ? -1 : y, V, grad_scale);
  if (y == kIgnoreTarget) return 0.0;
  return std::log(sum) + static_cast<double>(mx) - static_cast<double>(target_logit);
}

// Mean of row losses summed in row order, so it does not depend on the thread count.
double mean_loss(const std::vector<double>& row_loss, int64_t n_valid) {
  double total = 0.0;
  for (double l : row_loss) total += l;
  return n_valid > 0 ? total / static_cast<double>(n_valid) : 0.0;
}

// softmax_cross_entropy, with the gradient in f32 (dlogits), in bf16 (dlogits_bf16, T = float) or
// not at all (both null).
template <typename T>
double cross_entropy_rows(const T* logits, T* dlogits, uint16_t* dlogits_bf16, T* losses, const int32_t* targets,
                          int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n) {
    const int32_t y = targets[n];
    TESSERA_CHECK(y == kIgnoreTarget || (y >= 0 && y < V),
                  "target id {} at row {} is outside [0, {})", y, n, V);
  }
  int64_t n_valid = 0;
  const T grad_scale = mean_scale<T>(targets, N, &n_valid);
  std::vector<double> row_loss(static_cast<size_t>(N), 0.0);
#pragma omp parallel if (parallel_worth(N * V))
  {
    // Without f32 dlogits the exponentials go to a scratch row.
    std::vector<T> scratch(dlogits ? 0 : static_cast<size_t>(V));
#pragma omp for
    for (int64_t n = 0; n < N; ++n) {
      T* d = dlogits ? dlogits + n * V : scratch.data();
      row_loss[n] = row_loss_and_grad(logits + n * V, d, dlogits || dlogits_bf16, targets[n], V, grad_scale);
      if constexpr (std::is_same_v<T, float>) {
        if (dlogits_bf16) round_to_bf16_serial(dlogits_bf16 + n * V, d, V);
      }
    }
  }
  if (losses) {
    for (int64_t n = 0; n < N; ++n) losses[n] = static_cast<T>(row_loss[n]);
  }
  return mean_loss(row_loss, n_valid);
}

}  // namespace

template <typename T>
double softmax_cross_entropy(const T* logits, T* dlogits, T* losses, const int32_t* targets,
                             int64_t N, int64_t V) {
  return cross_entropy_rows<T>(logits, dlogits, nullptr, losses, targets, N, V);
}

double softmax_cross_entropy_bf16_grad(const float* logits, uint16_t* dlogits, const int32_t* targets, int64_t N,
                                       int64_t V) {
  return cross_entropy_rows<float>(logits, nullptr, dlogits, nullptr, targets, N, V);
}

template <typename T>
void cross_entropy_shard_max(T* mx, const T* logits, int64_t N, int64_t Vs) {
#pragma omp parallel for if (parallel_worth(N * Vs))
  for (int64_t n = 0; n < N; ++n) mx[n] = max_row(logits + n * Vs, Vs);
}

template <typename T>
void cross_entropy_shard_exp(T* dexp, double* stats, const T* logits, const T* mx, const int32_t* targets,
                             int64_t v0, int64_t N, int64_t Vs) {
#pragma omp parallel for if (parallel_worth(N * Vs))
  for (int64_t n = 0; n < N; ++n) {
    const int64_t local = targets[n] - v0;
    const bool here = targets[n] != kIgnoreTarget && local >= 0 && local < Vs;
    stats[2 * n + 1] = here ? static_cast<double>(logits[n * Vs + local]) : 0.0;  // before dexp overwrites it
    stats[2 * n] = exp_sum_row(logits + n * Vs, dexp + n * Vs, mx[n], Vs);
  }
}

template <typename T>
double cross_entropy_shard_finish(T* dexp, const double* stats, const T* mx, const int32_t* targets,
                                  int64_t v0, int64_t N, int64_t Vs) {
  int64_t n_valid = 0;
  const T grad_scale = mean_scale<T>(targets, N, &n_valid);
  std::vector<double> row_loss(static_cast<size_t>(N), 0.0);
#pragma omp parallel for if (parallel_worth(N * Vs))
  for (int64_t n = 0; n < N; ++n) {
    const int32_t y = targets[n];
    const int64_t local = y - v0;
    row_grad(dexp + n * Vs, stats[2 * n], y, y != kIgnoreTarget && local >= 0 && local < Vs ? local : -1, Vs,
             grad_scale);
    if (y != kIgnoreTarget) {
      row_loss[n] = std::log(stats[2 * n]) + static_cast<double>(mx[n]) - stats[2 * n + 1];
    }
  }
  return mean_loss(row_loss, n_valid);
}

template double softmax_cross_entropy<float>(const float*, float*, float*, const int32_t*, int64_t,
                                             int64_t);
template double softmax_cross_entropy<double>(const double*, double*, double*, const int32_t*,
                                              int64_t, int64_t);
template void cross_entropy_shard_max<float>(float*, const float*, int64_t, int64_t);
template void cross_entropy_shard_max<double>(double*, const double*, int64_t, int64_t);
template void cross_entropy_shard_exp<float>(float*, double*, const float*, const float*, const int32_t*,
                                             int64_t, int64_t, int64_t);
template void cross_entropy_shard_exp<double>(double*, double*, const double*, const double*, const int32_t*,
                                              int64_t, int64_t, int64_t);
template double cross_entropy_shard_finish<float>(float*, const double*, const float*, const int32_t*, int64_t,
                                                  int64_t, int64_t);
template double cross_entropy_shard_finish<double>(double*, const double*, const double*, const int32_t*,
                                                   int64_t, int64_t, int64_t);

}  // namespace tessera::core::cpu
