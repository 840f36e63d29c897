#pragma once
// ZeRO-1 AdamW: the optimizer state is sharded across the data-parallel ranks. GradSync in
// reduce-scatter mode leaves each rank the averaged gradients of its shard of every bucket; this
// optimizer keeps AdamW's m and v for that shard only (1/dp of the memory), updates the shard's
// parameters, and all-gathers every bucket so that all ranks hold the whole updated model again.
// AdamW is elementwise, so the update is exactly the replicated one. Collectives on the dp group,
// called in the same order on every rank.
#include <cstdint>
#include <vector>

#include "core/cpu/adamw.h"
#include "core/model/params.h"
#include "parallel/grad_sync.h"

namespace tessera::train {

class ZeroAdamW {
 public:
  ZeroAdamW(core::ParamRegistry& params, parallel::GradSync& sync, parallel::Communicator& dp, double weight_decay,
            double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8);

  // Updates this rank's shard and all-gathers the parameters.
  void step(double lr);
  int64_t steps_taken() const { return step_; }
  void set_steps_taken(int64_t steps) { step_ = steps; }  // resuming from a checkpoint
  std::vector<float>& m() { return m_; }  // (shard elements,): bucket b's part at its shard_offset
  std::vector<float>& v() { return v_; }

 private:
  // A stretch of this rank's shard inside one parameter: same weight-decay rule throughout.
  struct Run {
    size_t flat = 0;   // offset in the flat parameter buffer
    size_t shard = 0;  // offset in the shard buffers (gradients, m, v)
    size_t count = 0;
    bool decay = true;
  };

  core::ParamRegistry& params_;
  parallel::GradSync& sync_;
  parallel::Communicator& dp_;
  std::vector<Run> runs_;
  std::vector<float> m_, v_, send_;
  core::cpu::AdamWHyper hyper_;
  int64_t step_ = 0;
};

}  // namespace tessera::train
