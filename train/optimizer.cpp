#include "train/optimizer.h"

#include <cmath>

#include "core/error.h"

namespace tessera::train {

AdamW::AdamW(core::ParamRegistry& params, core::ParamRegistry& grads, double weight_decay, double beta1,
             double beta2, double eps)
    : params_(params),
      grads_(grads),
      m_(core::ParamRegistry::like(params, params.dtype())),
      v_(core::ParamRegistry::like(params, params.dtype())) {
  TESSERA_CHECK(params.size() == grads.size() && params.numel() == grads.numel(),
                "gradients ({} tensors) do not match the parameters ({} tensors)", grads.size(), params.size());
  hyper_.weight_decay = weight_decay;
  hyper_.beta1 = beta1;
  hyper_.beta2 = beta2;
  hyper_.eps = eps;
}

void AdamW::step(double lr) {
  hyper_.lr = lr;
  hyper_.step = ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const bool decay = params_.info(i).weight_decay;
    core::dispatch_float(params_.dtype(), [&]<typename T>() {
      core::cpu::adamw_update<T>(params_.tensor(i).data<T>(), grads_.tensor(i).data<T>(), m_.tensor(i).data<T>(),
                                 v_.tensor(i).data<T>(), params_.tensor(i).numel(), hyper_, decay);
    });
  }
}

double global_norm(const core::ParamRegistry& grads) {
  return core::dispatch_float(grads.dtype(), [&]<typename T>() {
    const T* g = grads.flat().data<T>();
    const int64_t n = grads.numel();
    double sum = 0;
#pragma omp parallel for reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    return std::sqrt(sum);
  });
}

void scale(core::ParamRegistry& grads, double factor) {
  core::dispatch_float(grads.dtype(), [&]<typename T>() {
    T* g = grads.flat().data<T>();
    const int64_t n = grads.numel();
    const T f = static_cast<T>(factor);
#pragma omp parallel for simd
    for (int64_t i = 0; i < n; ++i) g[i] *= f;
  });
}

double clip_global_norm(core::ParamRegistry& grads, double max_norm) {
  const double norm = global_norm(grads);
  if (max_norm > 0 && norm > max_norm) scale(grads, max_norm / (norm + 1e-6));
  return norm;
}

}  // namespace tessera::train
