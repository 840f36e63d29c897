#pragma once
// AdamW with decoupled weight decay (Loshchilov & Hutter):
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * p),  m_hat = m/(1-b1^t), v_hat = v/(1-b2^t)
// Parameters registered without decay (biases, norms) pass decay = false.
#include <cstdint>
#include <vector>

namespace tessera::core::cpu {

struct AdamWHyper {
  double lr = 3e-4;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  int64_t step = 1;  // 1-based step number after this update, for bias correction
};

// param (n), grad (n), m (n), v (n): param, m, v updated in place.
template <typename T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t n, const AdamWHyper& hp, bool decay);

// Elements [begin, end) of flat buffers, updated with or without weight decay.
struct AdamWSegment {
  int64_t begin, end;
  bool decay;
};

// The update of every segment of flat param, grad, m, v buffers in one parallel region (a
// registry's parameters: one barrier per step rather than one per tensor), the elements split
// evenly between the threads.
template <typename T>
void adamw_update(T* param, const T* grad, T* m, T* v, const std::vector<AdamWSegment>& segments,
                  const AdamWHyper& hp);

}  // namespace tessera::core::cpu
