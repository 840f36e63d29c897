#pragma once
// The training step on a GPU (train.device = "cuda"): one GPU per rank, weights, gradients and
// AdamW state resident on it, the host handing over token batches and reading back the loss.
//
//   micro_step  forward + backward of one (B,T) batch, gradients added (GpuTransformer)
//   sync_grads  the summed gradients -> their mean over the micro-steps and the data-parallel
//               ranks: one all-reduce of the flat fp32 gradient buffer on the GPU (NCCL)
//   clip        the global L2 norm, and the clip to train.grad_clip (train/optimizer.h's rule)
//   adamw       AdamW on the fp32 masters, the hyper-parameters of train/optimizer.h's AdamW
//
// Data parallelism only: tensor parallelism and ZeRO-1 stay on the CPU path for now (the trainer
// refuses them with train.device = "cuda").
#include <cstdint>
#include <memory>

#include "run/config.h"
#include "core/cpu/adamw.h"
#include "core/model/gpu_transformer.h"
#include "parallel/communicator.h"

namespace tessera::train {

// The GPU this rank trains on (local_rank modulo the visible GPUs). Throws tessera::Error naming
// train.device when the build has no CUDA or no GPU is visible.
int select_gpu(int local_rank);

class GpuStep {
 public:
  // dp: the data-parallel group over GPU buffers (an NCCL communicator), or null for one rank.
  // The parameters are zero until load().
  GpuStep(const Config& config, core::DType compute, core::cuda::GpuContext& ctx, parallel::Communicator* dp);
  ~GpuStep();

  core::GpuTransformer& model() { return model_; }
  double micro_step(const core::Tensor& tokens, const core::Tensor& targets);  // returns the loss
  void sync_grads(int64_t micro_steps);
  double clip(double max_norm);  // the norm before clipping; max_norm 0: never clips
  void adamw(double lr);         // counts the step
  int64_t steps_taken() const { return hyper_.step; }
  void set_steps_taken(int64_t steps) { hyper_.step = steps; }

  // Weights and AdamW moments from / to CPU registries of the same layout (f32; a CPU
  // Transformer's params() and train::AdamW's m() and v()): checkpoints, evaluation, samples.
  void load(const core::ParamRegistry& params, const core::ParamRegistry* m, const core::ParamRegistry* v);
  void store(const core::ParamRegistry& params, const core::ParamRegistry* m, const core::ParamRegistry* v) const;

 private:
  core::GpuTransformer model_;
  parallel::Communicator* dp_;
  core::ParamRegistry m_, v_;  // fp32 on the GPU
  core::cpu::AdamWHyper hyper_;
};

}  // namespace tessera::train
