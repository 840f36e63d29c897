#pragma once
// The transformer of transformer.h on one GPU: the same parameter registry (names, shapes, flat
// layout), so a checkpoint or a CPU model's weights load into it with one copy, and the same
// forward and backward, built from the CUDA ops of core/cuda/ops.h.
//
// Precision (the rules of train.precision): the parameters and their gradients are fp32 master
// copies; compute runs in `compute` (f32 or bf16). With bf16, forward first casts the masters
// into a bf16 copy of the registry, every GEMM and activation is bf16 (fp32 accumulation), norm
// statistics, attention probabilities, softmax and loss are fp32, and backward's bf16 parameter
// gradients are added into the fp32 gradients at its end. With f32 the masters are computed on
// directly.
//
// One GPU, no tensor parallelism: a model whose config asks for more is refused where it is
// built (the trainer). Every call runs on the GpuContext's stream.
#include <cstdint>
#include <memory>

#include "core/model/model_config.h"
#include "core/cuda/ops.h"
#include "core/model/params.h"

namespace tessera::core {

class GpuTransformer {
 public:
  // Validates the config as Transformer does and allocates zeroed parameters on ctx's GPU; load()
  // the weights (from a CPU Transformer after init_weights, or from a checkpoint) before training.
  // Throws tessera::Error without CUDA or GPU. ctx must outlive the model.
  GpuTransformer(const ModelConfig& config, DType compute, cuda::GpuContext& ctx);
  ~GpuTransformer();
  GpuTransformer(const GpuTransformer&) = delete;
  GpuTransformer& operator=(const GpuTransformer&) = delete;

  const ModelConfig& config() const { return config_; }
  DType compute_dtype() const { return compute_; }
  cuda::GpuContext& context() const { return ctx_; }
  ParamRegistry& params() { return params_; }  // fp32 masters, on the GPU
  const ParamRegistry& params() const { return params_; }
  ParamRegistry& grads() { return grads_; }    // fp32, on the GPU
  const ParamRegistry& grads() const { return grads_; }

  // Weights from / to a CPU registry of the same entries (a Transformer's params(), f32).
  void load(const ParamRegistry& host);
  void store(const ParamRegistry& host) const;

  // tokens, targets: (B,T) int32 CPU tensors (targets in [0,V) or -1, ignored). Returns the mean
  // cross-entropy and prepares backward(). Bad shapes or ids throw tessera::Error.
  double forward(const Tensor& tokens, const Tensor& targets);
  // Gradients of the last forward's mean loss, ADDED to grads() (zero_grad() first).
  void backward();
  void zero_grad();

 private:
  struct Activations;
  Tensor P(const std::string& name) const;  // the compute copy of a parameter, or undefined
  Tensor G(const std::string& name) const;  // its gradient in compute precision, or undefined

  ModelConfig config_;
  DType compute_;
  cuda::GpuContext& ctx_;
  ParamRegistry params_, grads_;
  // bf16 only: the compute copies of the weights and of their gradients (same entries).
  ParamRegistry compute_params_, compute_grads_;
  std::unique_ptr<Activations> acts_;
};

}  // namespace tessera::core
