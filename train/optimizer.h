#pragma once
// AdamW over a parameter registry: moments in registries of the same layout, decoupled weight
// decay only where the registry says (not on biases and norm gains), and global-norm clipping.
//
// Under tensor parallelism the global norm is of the whole model's gradient: each rank holds
// parts of the split parameters (their squares are summed over the tp group) and all of the
// replicated ones, which are the same on every tp peer (counted once). Collectives on the tp
// (and, for ZeRO-1 shards, dp) group, called in the same order on every rank.
#include <cstdint>
#include <vector>

#include "core/cpu/adamw.h"
#include "core/model/params.h"
#include "parallel/communicator.h"
#include "train/optimizer_interface.h"

namespace tessera::train {

// Replicated AdamW: every data-parallel rank holds the whole state of its tensor-parallel shards.
// tp: the tensor-parallel group of the registries' shards (clipping's global norm); null: none.
class AdamW final : public Optimizer {
 public:
  AdamW(core::ParamRegistry& params, core::ParamRegistry& grads, double weight_decay,
        parallel::Communicator* tp = nullptr, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8);

  double clip_gradients(double max_norm) override;
  // One update of every parameter with learning rate lr; counts the step.
  void step(double lr) override;
  std::vector<MomentSpan> moments() override;
  bool partitioned_over_dp() const override { return false; }
  core::ParamRegistry& m() { return m_; }
  core::ParamRegistry& v() { return v_; }

 private:
  core::ParamRegistry& params_;
  core::ParamRegistry& grads_;
  parallel::Communicator* tp_;
  core::ParamRegistry m_, v_;
  core::cpu::AdamWHyper hyper_;
  std::vector<core::cpu::AdamWSegment> segments_;  // each parameter's place in the flat buffers
};

// Sums of squared gradient values, by kind of parameter (ParamRegistry::is_sharded): values of
// split parameters differ between tp peers, replicated ones are the same on every peer.
struct SquareSums {
  double split = 0, replicated = 0;
  SquareSums& operator+=(const SquareSums& o) {
    split += o.split;
    replicated += o.replicated;
    return *this;
  }
};
// Of every gradient of the registry.
SquareSums square_sums(const core::ParamRegistry& grads);
// Of `count` f32 values that stand for elements [flat_begin, flat_begin + count) of the
// registry's flat layout (a ZeRO-1 shard of a gradient bucket).
SquareSums square_sums(const core::ParamRegistry& grads, size_t flat_begin, const float* values, size_t count);
// The L2 norm of the whole model's gradient from this rank's sums: split sums added over tp,
// replicated ones counted once; with dp (ZeRO-1: each dp rank holds a different shard), the
// total also added over dp. Null groups: groups of one.
double global_norm(SquareSums local, parallel::Communicator* tp, parallel::Communicator* dp = nullptr);
// The L2 norm of all gradients together; tp: the tensor-parallel group of the registry's shards.
double global_norm(const core::ParamRegistry& grads, parallel::Communicator* tp = nullptr);
// The factor that brings `norm` down to max_norm: 1 when it is below, or when max_norm is 0.
double clip_factor(double norm, double max_norm);
// Scales every element of t (f32 or f64) by `factor`.
void scale(const core::Tensor& t, double factor);
// Scales every gradient by `factor`.
void scale(core::ParamRegistry& grads, double factor);
// Clips to max_norm when norm exceeds it (max_norm 0: never); returns the norm before clipping.
double clip_global_norm(core::ParamRegistry& grads, double max_norm, parallel::Communicator* tp = nullptr);

}  // namespace tessera::train
