#pragma once
// The decoder-only transformer, configured by ModelConfig. Two families:
//   gpt2:  LayerNorm, learned positions, GELU MLP, biases, output tied to the token embedding
//          (unless tie_embeddings = false)
//   llama: RMSNorm, RoPE, SwiGLU MLP, grouped-query attention, no biases, an untied output head
//          when tie_embeddings = false
//
// Parameters live in a ParamRegistry (names below), gradients in a second registry with the same
// entries. Compute runs in the registry dtype (f32 to train; f64 for reference and gradient
// checks), dispatched at run time.
//
// Parameter names, shapes ((out, in) for weights) and tensor-parallel splits:
//   embed.tokens.weight        (V, C)             vocab
//   embed.positions.weight     (seq_len, C)       replicated            gpt2 only
//   blocks.{i}.attn_norm.weight/.bias (C)         replicated            (.bias gpt2 only)
//   blocks.{i}.attn.qkv.weight ((NH+2*NKV)*D, C)  column, segments q|k|v
//   blocks.{i}.attn.qkv.bias   ((NH+2*NKV)*D)     column, segments q|k|v gpt2 only
//   blocks.{i}.attn.out.weight (C, NH*D)          row
//   blocks.{i}.attn.out.bias   (C)                replicated            gpt2 only
//   blocks.{i}.mlp_norm.weight/.bias (C)          replicated            (.bias gpt2 only)
//   blocks.{i}.mlp.up.weight   (F, C)             column   (.bias (F) column, gpt2 only)
//   blocks.{i}.mlp.gate.weight (F, C)             column                llama only
//   blocks.{i}.mlp.down.weight (C, F)             row      (.bias (C) replicated, gpt2 only)
//   final_norm.weight/.bias    (C)                replicated            (.bias gpt2 only)
//   lm_head.weight             (V, C)             vocab                 untied only
//
// Tensor parallelism (Megatron-LM), over the TpGroup given at construction (none: a group of
// one). Each rank's registries hold its shards (shard_shape); per block:
//   attention: column-parallel QKV, a rank owning whole heads (its NH/tp query heads and NKV/tp
//              key/value heads), attention on those heads alone, row-parallel output projection;
//   MLP:       column-parallel up (and gate), F/tp hidden features per rank, row-parallel down.
// The input of a column-parallel layer is replicated (Megatron's "f": identity forward, all-reduce
// of its gradient backward); the output of a row-parallel layer is a partial sum (Megatron's "g":
// all-reduce forward, identity backward), its bias added once after the reduction. Token
// embedding and output head are split by vocabulary (vocab_parallel.h); norms and positions are
// replicated. Collectives run on the group at fixed points: every rank of the group must call
// forward and backward together with same-shaped inputs.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "core/cpu/gemm_bf16.h"
#include "core/model/model_config.h"
#include "core/model/params.h"
#include "core/model/tensor_parallel.h"

namespace tessera::core {

struct ForwardOptions {
  // Every matmul and attention product in fixed-order dot products: a sequence's logits are
  // bitwise independent of the other sequences in the batch (serving). Slower than the BLAS path.
  bool batch_invariant = false;
};

// The model's parameters (full shapes, registration order) without allocating them.
std::vector<ParamInfo> param_infos(const ModelConfig& config);
// Throws tessera::Error naming the problem when the config describes no valid model.
void validate_model(const ModelConfig& config);

// The precision of an f32 model's GEMMs (docs/training.md, Precision): fp32, or bf16 operands with
// f32 accumulation, the model keeping bf16 copies of its linear weights.
enum class Precision { fp32, bf16 };

// Called by backward with a parameter's registry index as soon as its gradient is final.
using GradReadyFn = std::function<void(size_t)>;

class Transformer {
 public:
  // Validates the config (throws tessera::Error naming the problem) and registers this rank's
  // parameter shards, zero-filled; call init_weights before training. tp: the tensor-parallel
  // group, which must outlive the model; null: a group of one.
  explicit Transformer(const ModelConfig& config, DType dtype = DType::f32, TpGroup* tp = nullptr);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const { return config_; }
  DType dtype() const { return dtype_; }
  TpGroup& tp() const { return *tp_; }
  ParamRegistry& params() { return params_; }
  const ParamRegistry& params() const { return params_; }
  ParamRegistry& grads() { return grads_; }
  const ParamRegistry& grads() const { return grads_; }

  // GPT-2 initialisation from a counter-based RNG (init.h): weights normal(0, 0.02), residual
  // projections (attn.out, mlp.down) normal(0, 0.02/sqrt(2*n_layer)), biases 0, norm gains 1.
  void init_weights(uint64_t seed);

  // tokens (B,T) int32 in [0,V), T <= seq_len; targets (B,T) int32 in [0,V) or -1 (ignored), or
  // an undefined Tensor. With targets: returns the mean cross-entropy and prepares backward().
  // Without: returns 0 and logits() holds (B,T,V), gathered from the vocabulary shards under
  // tensor parallelism (so every rank of the group must take part, generation included). Bad
  // shapes or ids throw tessera::Error.
  double forward(const Tensor& tokens, const Tensor& targets = Tensor(),
                 const ForwardOptions& options = {});
  // (B,T,V) logits of the last forward without targets (throws otherwise); the memory is reused
  // by the next forward, so clone() what must outlive it.
  const Tensor& logits() const;
  // Gradients of the last forward's mean loss, ADDED to grads() (zero_grad() first; adding lets
  // callers accumulate micro-batches). on_ready, when given, is called once per parameter with
  // its index as soon as its gradient is final: layers run in reverse, so the output head and
  // the last blocks come first and the token embedding last (data-parallel sync overlaps the
  // rest of backward this way).
  void backward(const GradReadyFn& on_ready = {});
  void zero_grad() { grads_.zero_(); }

  // bf16: forward and backward run every linear layer's products in bf16 (not batch-invariant
  // forwards, which stay fp32), reading bf16 copies of the linear weights, packed for the GEMMs;
  // the copies are made here and must be refreshed with refresh_compute_weights() after every
  // change of params() (optimizer step, checkpoint load). Needs an f32 model.
  void set_precision(Precision precision);
  Precision precision() const { return precision_; }
  void refresh_compute_weights();

  // Parameters of the whole model (full shapes), whatever the tensor-parallel layout.
  int64_t num_params() const { return params_.full_numel(); }
  // Training FLOPs per token at sequence length T: 6 per parameter (forward + backward) plus the
  // attention score and weighted-sum products, 12 * n_layer * d_model * T (the count PyTorch-side
  // peers use, so figures compare).
  double train_flops_per_token(int64_t T) const;

 private:
  struct Activations;
  template <typename T>
  double forward_impl(const Tensor& tokens, const Tensor& targets, const ForwardOptions& options);
  template <typename T> void backward_impl(const GradReadyFn& on_ready);
  // A linear weight (OC,C) in bf16, packed as the products read it: W^T for the forward, W for
  // the input gradient.
  struct PackedWeight {
    cpu::PackedBf16 wt, w;
  };
  // Linear weight i's packed copies in bf16 precision; null in fp32 or for an absent parameter.
  const PackedWeight* bf16_weight(size_t i) const;

  ModelConfig config_;
  DType dtype_;
  std::unique_ptr<TpGroup> solo_;  // the group of one when none was given
  TpGroup* tp_;
  ParamRegistry params_, grads_;
  Arena acts_arena_, grad_arena_;
  Precision precision_ = Precision::fp32;
  std::map<size_t, PackedWeight> compute_bf16_;  // bf16: the linear weights by registry index
  std::unique_ptr<Activations> acts_;
};

}  // namespace tessera::core
