#include "core/model/gpu_transformer.h"

#include <string>
#include <vector>

#include "core/cpu/cross_entropy.h"
#include "core/cuda/flat_ops.h"
#include "core/cuda/memory.h"
#include "core/model/transformer.h"

namespace tessera::core {

namespace {
constexpr float kNormEps = 1e-5f;  // transformer.cpp's
}  // namespace

// Everything forward keeps for backward, allocated once per (B,T) and reused. N = B*T rows,
// compute dtype unless marked f32.
struct GpuTransformer::Activations {
  struct Layer {
    Tensor n1, n1_mean, n1_rstd;  // (N,C), (N) f32, (N) f32 attention norm (mean: LayerNorm only)
    Tensor qkv;                   // (B,T,(NH+2*NKV)*D), q and k after RoPE (llama)
    Tensor att;                   // (B,NH,T,T) f32 softmax probabilities
    Tensor atty;                  // (N,NH*D) attention output before the projection
    Tensor res1;                  // (N,C) block input + attention
    Tensor n2, n2_mean, n2_rstd;  // (N,C), (N) f32, (N) f32 MLP norm
    Tensor fc;                    // (N,F) gpt2: up projection before GELU
    Tensor gate, up;              // (N,F) llama: the two projections before SwiGLU
    Tensor fch;                   // (N,F) activation output, input of the down projection
    Tensor res2;                  // (N,C) res1 + MLP: the block's output
  };
  int64_t B = 0, T = 0;
  bool ready_for_backward = false;
  Tensor tokens, targets;                   // (B,T) int32 on the GPU
  Tensor x0;                                // (N,C) embeddings
  std::vector<Layer> layers;
  Tensor xf, xf_mean, xf_rstd;              // (N,C), (N) f32, (N) f32 final norm
  Tensor logits;                            // (N,V); dlogits after forward
  Tensor dx, dn, dqkv, datty, dfch, dup;    // backward scratch: (N,C) (N,C) (B,T,QKV) (N,NH*D) (N,F) (N,F)
};

GpuTransformer::GpuTransformer(const ModelConfig& config, DType compute, cuda::GpuContext& ctx)
    : config_(config), compute_(compute), ctx_(ctx), acts_(std::make_unique<Activations>()) {
  validate_model(config_);
  TESSERA_CHECK(compute == DType::f32 || compute == DType::bf16, "the GPU model computes in f32 or bf16, not {}",
                dtype_name(compute));
  params_ = ParamRegistry(param_infos(config_), DType::f32, Device::cuda);
  grads_ = ParamRegistry::like(params_, DType::f32);
  if (compute_ == DType::bf16) {
    compute_params_ = ParamRegistry::like(params_, DType::bf16);
    compute_grads_ = ParamRegistry::like(params_, DType::bf16);
  }
}

GpuTransformer::~GpuTransformer() = default;

void GpuTransformer::load(const ParamRegistry& host) {
  TESSERA_CHECK(host.numel() == params_.numel() && host.dtype() == DType::f32 && host.tp_size() == 1,
                "loading GPU weights: the CPU registry holds {} {} elements in {} tensor-parallel shard(s), the "
                "GPU model {} f32 elements in one", host.numel(), dtype_name(host.dtype()), host.tp_size(),
                params_.numel());
  ctx_.synchronize();
  cuda::copy_bytes(params_.flat().raw(), host.flat().raw(), params_.flat().nbytes());
}

void GpuTransformer::store(const ParamRegistry& host) const {
  TESSERA_CHECK(host.numel() == params_.numel() && host.dtype() == DType::f32,
                "storing GPU weights: the CPU registry holds {} {} elements, the GPU model {} f32", host.numel(),
                dtype_name(host.dtype()), params_.numel());
  ctx_.synchronize();
  cuda::copy_bytes(host.flat().raw(), params_.flat().raw(), params_.flat().nbytes());
}

void GpuTransformer::zero_grad() { cuda::zero(ctx_, grads_.flat()); }

Tensor GpuTransformer::P(const std::string& name) const {
  const ParamRegistry& r = compute_ == DType::bf16 ? compute_params_ : params_;
  return r.contains(name) ? r[name] : Tensor();
}

Tensor GpuTransformer::G(const std::string& name) const {
  const ParamRegistry& r = compute_ == DType::bf16 ? compute_grads_ : grads_;
  return r.contains(name) ? r[name] : Tensor();
}

double GpuTransformer::forward(const Tensor& tokens, const Tensor& targets) {
  const ModelConfig& c = config_;
  TESSERA_CHECK(tokens.defined() && tokens.dim() == 2 && tokens.dtype() == DType::i32 && tokens.device() == Device::cpu,
                "tokens must be a (B,T) int32 CPU tensor, got shape {} of {}", shape_str(tokens.shape()),
                dtype_name(tokens.dtype()));
  TESSERA_CHECK(targets.defined() && targets.shape() == tokens.shape() && targets.dtype() == DType::i32,
                "targets must be int32 of the tokens' shape {}", shape_str(tokens.shape()));
  const int64_t B = tokens.size(0), T = tokens.size(1), N = B * T;
  TESSERA_CHECK(B >= 1 && T >= 1 && T <= c.seq_len, "a batch of shape {} for a model of seq_len {}",
                shape_str(tokens.shape()), c.seq_len);
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t C = c.d_model, NH = c.n_head, NKV = c.kv_heads(), D = c.head_dim(), F = c.ff_dim();
  const int64_t V = c.vocab_size, QKV = (NH + 2 * NKV) * D;
  const DType dt = compute_;
  Activations& a = *acts_;
  a.ready_for_backward = false;
  if (a.B != B || a.T != T) {  // (re)allocate for this batch shape
    auto act = [&](const Shape& s) { return Tensor::empty(s, dt, Device::cuda); };
    auto f32 = [&](const Shape& s) { return Tensor::empty(s, DType::f32, Device::cuda); };
    a.layers.assign(static_cast<size_t>(c.n_layer), {});
    for (Activations::Layer& L : a.layers) {
      L.n1 = act({N, C});
      L.n1_rstd = f32({N});
      L.qkv = act({B, T, QKV});
      L.att = f32({B, NH, T, T});
      L.atty = act({N, NH * D});
      L.res1 = act({N, C});
      L.n2 = act({N, C});
      L.n2_rstd = f32({N});
      L.fch = act({N, F});
      L.res2 = act({N, C});
      if (gpt2) {
        L.n1_mean = f32({N});
        L.n2_mean = f32({N});
        L.fc = act({N, F});
      } else {
        L.gate = act({N, F});
        L.up = act({N, F});
      }
    }
    a.x0 = act({N, C});
    a.xf = act({N, C});
    a.xf_rstd = f32({N});
    a.xf_mean = gpt2 ? f32({N}) : Tensor();
    a.logits = act({N, V});
    a.dx = act({N, C});
    a.dn = act({N, C});
    a.dqkv = act({B, T, QKV});
    a.datty = act({N, NH * D});
    a.dfch = act({N, F});
    a.dup = gpt2 ? Tensor() : act({N, F});
    a.B = B;
    a.T = T;
  }
  a.tokens = tokens.to_device(Device::cuda);
  a.targets = targets.to_device(Device::cuda);
  if (dt == DType::bf16) cuda::cast(ctx_, compute_params_.flat(), params_.flat());  // bf16 weights of this step

  auto norm = [&](const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& in, const std::string& p) {
    if (gpt2) {
      cuda::layernorm_forward(ctx_, out, mean, rstd, in, P(p + ".weight"), P(p + ".bias"), kNormEps);
    } else {
      cuda::rmsnorm_forward(ctx_, out, rstd, in, P(p + ".weight"), kNormEps);
    }
  };
  cuda::embedding_forward(ctx_, a.x0, a.tokens, P("embed.tokens.weight"), P("embed.positions.weight"));
  Tensor x = a.x0;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    Activations::Layer& L = a.layers[static_cast<size_t>(l)];
    const std::string p = "blocks." + std::to_string(l) + ".";
    norm(L.n1, L.n1_mean, L.n1_rstd, x, p + "attn_norm");
    cuda::linear_forward(ctx_, L.qkv, L.n1, P(p + "attn.qkv.weight"), P(p + "attn.qkv.bias"));
    if (!gpt2) cuda::rope_forward(ctx_, L.qkv, NH, NKV, D);
    cuda::attention_forward(ctx_, L.atty, L.att, L.qkv, NH, NKV, D);
    // res1 (N,C) = x + atty @ out^T + out_b
    cuda::linear_forward(ctx_, L.res1, L.atty, P(p + "attn.out.weight"), P(p + "attn.out.bias"));
    cuda::residual_add(ctx_, L.res1, x);
    norm(L.n2, L.n2_mean, L.n2_rstd, L.res1, p + "mlp_norm");
    if (gpt2) {
      cuda::linear_forward(ctx_, L.fc, L.n2, P(p + "mlp.up.weight"), P(p + "mlp.up.bias"));
      cuda::gelu_forward(ctx_, L.fch, L.fc);
    } else {
      cuda::linear_forward(ctx_, L.gate, L.n2, P(p + "mlp.gate.weight"), Tensor());
      cuda::linear_forward(ctx_, L.up, L.n2, P(p + "mlp.up.weight"), Tensor());
      cuda::swiglu_forward(ctx_, L.fch, L.gate, L.up);
    }
    // res2 (N,C) = res1 + fch @ down^T + down_b
    cuda::linear_forward(ctx_, L.res2, L.fch, P(p + "mlp.down.weight"), P(p + "mlp.down.bias"));
    cuda::residual_add(ctx_, L.res2, L.res1);
    x = L.res2;
  }
  norm(a.xf, a.xf_mean, a.xf_rstd, x, "final_norm");
  const std::string head = c.tie_embeddings ? "embed.tokens.weight" : "lm_head.weight";
  cuda::linear_forward(ctx_, a.logits, a.xf, P(head), Tensor());
  // The logits become dlogits, the gradient of the mean loss (fp32 softmax and loss).
  const double loss = cuda::softmax_cross_entropy(ctx_, a.logits, a.logits, a.targets);
  a.ready_for_backward = true;
  return loss;
}

void GpuTransformer::backward() {
  Activations& a = *acts_;
  TESSERA_CHECK(a.ready_for_backward, "backward() needs a forward first");
  a.ready_for_backward = false;
  const ModelConfig& c = config_;
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t NH = c.n_head, NKV = c.kv_heads(), D = c.head_dim();
  const bool bf16 = compute_ == DType::bf16;
  if (bf16) cuda::zero(ctx_, compute_grads_.flat());  // this backward's bf16 gradients, added to grads() at the end
  // Linear and norm backward kernels ADD into their input gradients: scratch is zeroed first.
  auto norm_backward = [&](const Tensor& dout, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                           const std::string& p) {
    if (gpt2) {
      cuda::layernorm_backward(ctx_, a.dx, G(p + ".weight"), G(p + ".bias"), dout, in, P(p + ".weight"), mean, rstd);
    } else {
      cuda::rmsnorm_backward(ctx_, a.dx, G(p + ".weight"), dout, in, P(p + ".weight"), rstd);
    }
  };
  const std::string head = c.tie_embeddings ? "embed.tokens.weight" : "lm_head.weight";
  cuda::zero(ctx_, a.dn);
  cuda::linear_backward(ctx_, a.dn, G(head), Tensor(), a.logits, a.xf, P(head));
  cuda::zero(ctx_, a.dx);
  norm_backward(a.dn, a.layers.back().res2, a.xf_mean, a.xf_rstd, "final_norm");
  for (int64_t l = c.n_layer - 1; l >= 0; --l) {
    const Activations::Layer& L = a.layers[static_cast<size_t>(l)];
    const std::string p = "blocks." + std::to_string(l) + ".";
    // dx holds d(res2); the skip connection passes it on to d(res1) unchanged.
    cuda::zero(ctx_, a.dfch);
    cuda::linear_backward(ctx_, a.dfch, G(p + "mlp.down.weight"), G(p + "mlp.down.bias"), a.dx, L.fch,
                          P(p + "mlp.down.weight"));
    cuda::zero(ctx_, a.dn);
    if (gpt2) {
      cuda::gelu_backward(ctx_, a.dfch, L.fc, a.dfch);
      cuda::linear_backward(ctx_, a.dn, G(p + "mlp.up.weight"), G(p + "mlp.up.bias"), a.dfch, L.n2,
                            P(p + "mlp.up.weight"));
    } else {
      cuda::swiglu_backward(ctx_, a.dfch, a.dup, a.dfch, L.gate, L.up);
      cuda::linear_backward(ctx_, a.dn, G(p + "mlp.gate.weight"), Tensor(), a.dfch, L.n2, P(p + "mlp.gate.weight"));
      cuda::linear_backward(ctx_, a.dn, G(p + "mlp.up.weight"), Tensor(), a.dup, L.n2, P(p + "mlp.up.weight"));
    }
    norm_backward(a.dn, L.res1, L.n2_mean, L.n2_rstd, p + "mlp_norm");
    // dx holds d(res1); the skip connection passes it on to d(block input).
    cuda::zero(ctx_, a.datty);
    cuda::linear_backward(ctx_, a.datty, G(p + "attn.out.weight"), G(p + "attn.out.bias"), a.dx, L.atty,
                          P(p + "attn.out.weight"));
    cuda::zero(ctx_, a.dqkv);
    cuda::attention_backward(ctx_, a.dqkv, a.datty, L.qkv, L.att, NH, NKV, D);
    if (!gpt2) cuda::rope_backward(ctx_, a.dqkv, NH, NKV, D);
    cuda::zero(ctx_, a.dn);
    cuda::linear_backward(ctx_, a.dn, G(p + "attn.qkv.weight"), G(p + "attn.qkv.bias"), a.dqkv, L.n1,
                          P(p + "attn.qkv.weight"));
    const Tensor& in = l == 0 ? a.x0 : a.layers[static_cast<size_t>(l - 1)].res2;
    norm_backward(a.dn, in, L.n1_mean, L.n1_rstd, p + "attn_norm");
  }
  cuda::embedding_backward(ctx_, G("embed.tokens.weight"), G("embed.positions.weight"), a.dx, a.tokens);
  if (bf16) cuda::accumulate(ctx_, grads_.flat(), compute_grads_.flat());
}

}  // namespace tessera::core
