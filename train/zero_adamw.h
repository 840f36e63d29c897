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
#include "train/optimizer_interface.h"

namespace tessera::train {

// tp: the tensor-parallel group of the registry's shards (clipping's global norm); null: none.
class ZeroAdamW final : public Optimizer {
 public:
  ZeroAdamW(core::ParamRegistry& params, parallel::GradSync& sync, parallel::Communicator& dp, double weight_decay,
            parallel::Communicator* tp = nullptr, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8);

  // Clips this rank's averaged gradient shards by the norm of the whole model's gradient (shards
  // summed over dp, split parameters over tp).
  double clip_gradients(double max_norm) override;
  // Updates this rank's shard and all-gathers the parameters.
  void step(double lr) override;
  std::vector<MomentSpan> moments() override;  // one span per bucket shard
  bool partitioned_over_dp() const override { return true; }
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
  parallel::Communicator* tp_;
  std::vector<Run> runs_;
  std::vector<float> m_, v_, send_;
  core::cpu::AdamWHyper hyper_;
};

}  // namespace tessera::train
