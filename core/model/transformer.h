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
#include <cstdint>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "core/config.h"
#include "core/model/params.h"

namespace tessera::core {

struct ForwardOptions {
  // Every matmul and attention product in fixed-order dot products: a sequence's logits are
  // bitwise independent of the other sequences in the batch (serving). Slower than the BLAS path.
  bool batch_invariant = false;
};

class Transformer {
 public:
  // Validates the config (throws tessera::Error naming the problem) and registers the
  // parameters, zero-filled; call init_weights before training.
  explicit Transformer(const ModelConfig& config, DType dtype = DType::f32);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const { return config_; }
  DType dtype() const { return dtype_; }
  ParamRegistry& params() { return params_; }
  const ParamRegistry& params() const { return params_; }
  ParamRegistry& grads() { return grads_; }
  const ParamRegistry& grads() const { return grads_; }

  // GPT-2 initialisation from a counter-based RNG (init.h): weights normal(0, 0.02), residual
  // projections (attn.out, mlp.down) normal(0, 0.02/sqrt(2*n_layer)), biases 0, norm gains 1.
  void init_weights(uint64_t seed);

  // tokens (B,T) int32 in [0,V), T <= seq_len; targets (B,T) int32 in [0,V) or -1 (ignored), or
  // an undefined Tensor. With targets: returns the mean cross-entropy and prepares backward().
  // Without: returns 0 and logits() holds (B,T,V). Bad shapes or ids throw tessera::Error.
  double forward(const Tensor& tokens, const Tensor& targets = Tensor(),
                 const ForwardOptions& options = {});
  // (B,T,V) logits of the last forward without targets (throws otherwise); the memory is reused
  // by the next forward, so clone() what must outlive it.
  const Tensor& logits() const;
  // Gradients of the last forward's mean loss, ADDED to grads() (zero_grad() first; adding lets
  // callers accumulate micro-batches).
  void backward();
  void zero_grad() { grads_.zero_(); }

  int64_t num_params() const { return params_.numel(); }
  // Training FLOPs per token at sequence length T: 6 per parameter (forward + backward) plus the
  // attention score and weighted-sum products, 12 * n_layer * d_model * T (the count PyTorch-side
  // peers use, so figures compare).
  double train_flops_per_token(int64_t T) const;

 private:
  struct Activations;
  template <typename T>
  double forward_impl(const Tensor& tokens, const Tensor& targets, const ForwardOptions& options);
  template <typename T> void backward_impl();

  ModelConfig config_;
  DType dtype_;
  ParamRegistry params_, grads_;
  Arena acts_arena_, grad_arena_;
  std::unique_ptr<Activations> acts_;
};

}  // namespace tessera::core
