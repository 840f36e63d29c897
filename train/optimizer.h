#pragma once
// AdamW over a parameter registry: moments in registries of the same layout, decoupled weight
// decay only where the registry says (not on biases and norm gains), and global-norm clipping.
#include <cstdint>

#include "core/cpu/adamw.h"
#include "core/model/params.h"

namespace tessera::train {

class AdamW {
 public:
  AdamW(core::ParamRegistry& params, core::ParamRegistry& grads, double weight_decay, double beta1 = 0.9,
        double beta2 = 0.95, double eps = 1e-8);

  // One update of every parameter with learning rate lr; counts the step.
  void step(double lr);
  int64_t steps_taken() const { return step_; }
  const core::ParamRegistry& m() const { return m_; }
  const core::ParamRegistry& v() const { return v_; }

 private:
  core::ParamRegistry& params_;
  core::ParamRegistry& grads_;
  core::ParamRegistry m_, v_;
  core::cpu::AdamWHyper hyper_;
  int64_t step_ = 0;
};

// The L2 norm of all gradients together.
double global_norm(const core::ParamRegistry& grads);
// Scales every gradient by `factor`.
void scale(core::ParamRegistry& grads, double factor);
// Clips to max_norm when norm exceeds it (max_norm 0: never); returns the norm before clipping.
double clip_global_norm(core::ParamRegistry& grads, double max_norm);

}  // namespace tessera::train
