#include "core/model/transformer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/cpu/activations.h"
#include "core/cpu/attention.h"
#include "core/cpu/attention_bf16.h"
#include "core/cpu/cross_entropy.h"
#include "core/cpu/embedding.h"
#include "core/cpu/bf16_round.h"
#include "core/cpu/layernorm.h"
#include "core/cpu/linear.h"
#include "core/cpu/rmsnorm.h"
#include "core/cpu/rope.h"
#include "core/memory.h"
#include "core/model/init.h"
#include "core/model/row_parallel.h"
#include "core/model/vocab_parallel.h"

namespace tessera::core {

namespace {

constexpr size_t kAbsent = std::numeric_limits<size_t>::max();
constexpr double kNormEps = 1e-5;
constexpr double kRopeTheta = 10000.0;

// The bits of a bf16 tensor, as the bf16 kernels take them.
uint16_t* bf16_bits(const Tensor& t) { return static_cast<uint16_t*>(t.raw()); }

void validate(const ModelConfig& c) {
  TESSERA_CHECK(c.n_layer >= 1, "n_layer must be >= 1, got {}", c.n_layer);
  TESSERA_CHECK(c.n_head >= 1 && c.d_model >= 1, "d_model ({}) and n_head ({}) must be >= 1",
                c.d_model, c.n_head);
  TESSERA_CHECK(c.d_model % c.n_head == 0, "d_model ({}) is not divisible by n_head ({})", c.d_model,
                c.n_head);
  TESSERA_CHECK(c.n_kv_head >= 0 && c.kv_heads() <= c.n_head && c.n_head % c.kv_heads() == 0,
                "n_head ({}) is not a multiple of n_kv_head ({})", c.n_head, c.kv_heads());
  TESSERA_CHECK(!facts(c.family).rotary || c.head_dim() % 2 == 0,
                "RoPE needs an even head dimension, got d_model/n_head = {}", c.head_dim());
  TESSERA_CHECK(c.seq_len >= 1, "seq_len must be >= 1, got {}", c.seq_len);
  TESSERA_CHECK(c.vocab_size >= 1, "vocab_size must be >= 1, got {}", c.vocab_size);
  TESSERA_CHECK(c.ff_dim() >= 1, "d_ff must be >= 1, got {}", c.ff_dim());
}

void validate_tp(const ModelConfig& c, int tp) {
  TESSERA_CHECK(c.n_head % tp == 0 && c.kv_heads() % tp == 0,
                "{} tensor-parallel ranks do not divide n_head ({}) and the key/value heads ({})", tp, c.n_head,
                c.kv_heads());
  TESSERA_CHECK(c.ff_dim() % tp == 0, "{} tensor-parallel ranks do not divide the MLP width d_ff ({})", tp,
                c.ff_dim());
  TESSERA_CHECK(c.vocab_size % tp == 0, "{} tensor-parallel ranks do not divide vocab_size ({})", tp,
                c.vocab_size);
}

// Where each parameter sits in the registry, resolved once.
struct LayerIndex {
  size_t attn_norm_w = kAbsent, attn_norm_b = kAbsent, qkv_w = kAbsent, qkv_b = kAbsent;
  size_t out_w = kAbsent, out_b = kAbsent, mlp_norm_w = kAbsent, mlp_norm_b = kAbsent;
  size_t up_w = kAbsent, up_b = kAbsent, gate_w = kAbsent, down_w = kAbsent, down_b = kAbsent;
};

}  // namespace

void validate_model(const ModelConfig& config) { validate(config); }

std::vector<ParamInfo> param_infos(const ModelConfig& c) {
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t C = c.d_model, NH = c.n_head, NKV = c.kv_heads(), D = c.head_dim();
  const int64_t F = c.ff_dim(), V = c.vocab_size;
  const int64_t QKV = (NH + 2 * NKV) * D;
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_layer));
  std::vector<ParamInfo> ps;
  auto weight = [&](std::string name, Shape shape, TpSplit split, double std = 0.02,
                    std::vector<int64_t> segments = {}, int64_t unit = 1) {
    ps.push_back({std::move(name), std::move(shape), split, std::move(segments), unit, true,
                  InitKind::normal, std});
  };
  auto bias = [&](std::string name, int64_t n, TpSplit split, std::vector<int64_t> segments = {},
                  int64_t unit = 1) {
    ps.push_back({std::move(name), {n}, split, std::move(segments), unit, false, InitKind::zeros, 0.0});
  };
  auto gain = [&](std::string name, int64_t n) {
    ps.push_back({std::move(name), {n}, TpSplit::replicated, {}, 1, false, InitKind::ones, 0.0});
  };
  weight("embed.tokens.weight", {V, C}, TpSplit::vocab);
  if (gpt2) weight("embed.positions.weight", {c.seq_len, C}, TpSplit::replicated);
  const std::vector<int64_t> qkv_segments{NH * D, NKV * D, NKV * D};
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    gain(p + "attn_norm.weight", C);
    if (gpt2) bias(p + "attn_norm.bias", C, TpSplit::replicated);
    weight(p + "attn.qkv.weight", {QKV, C}, TpSplit::column, 0.02, qkv_segments, D);
    if (gpt2) bias(p + "attn.qkv.bias", QKV, TpSplit::column, qkv_segments, D);
    weight(p + "attn.out.weight", {C, NH * D}, TpSplit::row, residual_std, {}, D);
    if (gpt2) bias(p + "attn.out.bias", C, TpSplit::replicated);
    gain(p + "mlp_norm.weight", C);
    if (gpt2) bias(p + "mlp_norm.bias", C, TpSplit::replicated);
    if (!gpt2) weight(p + "mlp.gate.weight", {F, C}, TpSplit::column);
    weight(p + "mlp.up.weight", {F, C}, TpSplit::column);
    if (gpt2) bias(p + "mlp.up.bias", F, TpSplit::column);
    weight(p + "mlp.down.weight", {C, F}, TpSplit::row, residual_std);
    if (gpt2) bias(p + "mlp.down.bias", C, TpSplit::replicated);
  }
  gain("final_norm.weight", C);
  if (gpt2) bias("final_norm.bias", C, TpSplit::replicated);
  if (!c.tie_embeddings) weight("lm_head.weight", {V, C}, TpSplit::vocab);
  return ps;
}

// Everything forward keeps for backward, for one (B,T). Shapes with N = B*T rows; under tensor
// parallelism this rank's parts: NHl = NH/tp query heads, NKVl = NKV/tp kv heads, Fl = F/tp
// hidden features, Vl = V/tp vocabulary entries. (N,C) tensors are replicated.
struct Transformer::Activations {
  struct Layer {
    Tensor in;                           // (N,C) the residual stream entering the block (a view)
    Tensor n1, n1_mean, n1_rstd;         // (N,C), (N), (N) attention norm (mean: LayerNorm only)
    Tensor qkv;                          // (N,(NHl+2*NKVl)*D), q and k after RoPE (llama)
    Tensor att;                          // (B,NHl,T,T) softmax probabilities
    Tensor atty;                         // (N,NHl*D) attention output before the projection
    Tensor res1;                         // (N,C) in + attention
    Tensor n2, n2_mean, n2_rstd;         // (N,C), (N), (N) MLP norm
    Tensor fc;                           // (N,Fl) gpt2: up projection before GELU
    Tensor gate, up;                     // (N,Fl) llama: the two projections before SwiGLU
    Tensor fch;                          // (N,Fl) activation output, input of the down projection
    Tensor res2;                         // (N,C) res1 + MLP: the block's output
    // bf16 precision: the linear layers' inputs rounded, kept for the weight gradients, and
    // attention's operands
    Tensor n1b, attyb, n2b, fchb;        // bf16 (N,C), (N,NHl*D), (N,C), (N,Fl)
    Tensor qkvb, attb;                   // bf16 (N,(NHl+2*NKVl)*D), (B,NHl,T,T)
  };
  int64_t B = 0, T = 0;
  bool ready_for_backward = false, has_logits = false;
  Tensor tokens, targets;                // (B,T) int32 copies
  Tensor x0;                             // (N,C) embeddings
  std::vector<Layer> layers;
  Tensor xf, xf_mean, xf_rstd;           // (N,C), (N), (N) final norm
  Tensor xfb;                            // bf16 (N,C) xf rounded (bf16 precision)
  Tensor logits;                         // (N,Vl) logits, or dlogits after forward with targets;
                                         // (B,T,V) gathered after forward without targets
  Tensor dlogits_bf16;                   // bf16 (N,V) dlogits instead (bf16 precision, one rank)
  std::vector<LayerIndex> index;         // per layer
  size_t wte = kAbsent, wpe = kAbsent, final_w = kAbsent, final_b = kAbsent, head = kAbsent;
  cpu::VocabShard vocab;                 // this rank's rows of the token table and output head
};

Transformer::Transformer(const ModelConfig& config, DType dtype, TpGroup* tp)
    : config_(config),
      dtype_(dtype),
      solo_(tp ? nullptr : std::make_unique<SoloTpGroup>()),
      tp_(tp ? tp : solo_.get()),
      acts_(std::make_unique<Activations>()) {
  validate(config_);
  validate_tp(config_, tp_->size());
  TESSERA_CHECK(dtype == DType::f32 || dtype == DType::f64,
                "the CPU model computes in f32 or f64, not {}", dtype_name(dtype));
  std::vector<ParamInfo> infos = param_infos(config_);
  int64_t numel = 0;
  for (const auto& info : infos) numel += info.numel();
  check_fits(2 * static_cast<uint64_t>(numel / tp_->size()) * dtype_size(dtype),
             1, fmt::format("a model of {:.1f}M parameters (weights and gradients)", static_cast<double>(numel) / 1e6));
  params_ = ParamRegistry(std::move(infos), dtype, Device::cpu, tp_->rank(), tp_->size());
  grads_ = ParamRegistry::like(params_, dtype);

  auto find = [&](const std::string& name) { return params_.contains(name) ? params_.index_of(name) : kAbsent; };
  Activations& a = *acts_;
  a.wte = find("embed.tokens.weight");
  a.wpe = find("embed.positions.weight");
  a.final_w = find("final_norm.weight");
  a.final_b = find("final_norm.bias");
  a.head = config_.tie_embeddings ? a.wte : find("lm_head.weight");
  a.vocab = {shard_ranges(params_.info(a.wte), tp_->rank(), tp_->size())[0].start,
             params_.tensor(a.wte).size(0)};
  for (int64_t l = 0; l < config_.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    LayerIndex li;
    li.attn_norm_w = find(p + "attn_norm.weight");
    li.attn_norm_b = find(p + "attn_norm.bias");
    li.qkv_w = find(p + "attn.qkv.weight");
    li.qkv_b = find(p + "attn.qkv.bias");
    li.out_w = find(p + "attn.out.weight");
    li.out_b = find(p + "attn.out.bias");
    li.mlp_norm_w = find(p + "mlp_norm.weight");
    li.mlp_norm_b = find(p + "mlp_norm.bias");
    li.up_w = find(p + "mlp.up.weight");
    li.up_b = find(p + "mlp.up.bias");
    li.gate_w = find(p + "mlp.gate.weight");
    li.down_w = find(p + "mlp.down.weight");
    li.down_b = find(p + "mlp.down.bias");
    a.index.push_back(li);
  }
}

Transformer::~Transformer() = default;

void Transformer::init_weights(uint64_t seed) {
  initialize(params_, seed);
  refresh_compute_weights();
}

void Transformer::set_precision(Precision precision) {
  TESSERA_CHECK(precision == Precision::fp32 || dtype_ == DType::f32, "bf16 compute needs an f32 model, this one is {}",
                dtype_name(dtype_));
  precision_ = precision;
  compute_bf16_.clear();
  if (precision_ == Precision::fp32) return;
  const Activations& a = *acts_;
  compute_bf16_[a.head];
  for (const LayerIndex& li : a.index) {
    for (size_t w : {li.qkv_w, li.out_w, li.up_w, li.gate_w, li.down_w}) {
      if (w != kAbsent) compute_bf16_[w];
    }
  }
  refresh_compute_weights();
}

const Transformer::PackedWeight* Transformer::bf16_weight(size_t i) const {
  const auto it = compute_bf16_.find(i);
  return it == compute_bf16_.end() ? nullptr : &it->second;
}

void Transformer::refresh_compute_weights() {
  std::vector<uint16_t> rounded;
  for (auto& [i, packed] : compute_bf16_) {
    const Tensor& w = params_.tensor(i);
    const int64_t OC = w.size(0), C = w.size(1);
    rounded.resize(static_cast<size_t>(OC * C));
    cpu::round_to_bf16(rounded.data(), w.data<float>(), OC * C);
    packed.wt.pack(rounded.data(), C, /*trans_b=*/true, C, OC);
    packed.w.pack(rounded.data(), C, /*trans_b=*/false, OC, C);
  }
}

double Transformer::train_flops_per_token(int64_t T) const {
  return 6.0 * static_cast<double>(num_params()) +
         12.0 * static_cast<double>(config_.n_layer * config_.d_model * T);
}

const Tensor& Transformer::logits() const {
  TESSERA_CHECK(acts_->has_logits, "logits() needs a forward without targets first");
  return acts_->logits;
}

double Transformer::forward(const Tensor& tokens, const Tensor& targets, const ForwardOptions& options) {
  TESSERA_CHECK(tokens.defined() && tokens.dim() == 2 && tokens.dtype() == DType::i32 &&
                    tokens.device() == Device::cpu,
                "tokens must be a (B,T) int32 CPU tensor, got shape {} of {}",
                shape_str(tokens.shape()), dtype_name(tokens.dtype()));
  const int64_t B = tokens.size(0), T = tokens.size(1);
  TESSERA_CHECK(B >= 1 && T >= 1, "empty batch of shape {}", shape_str(tokens.shape()));
  TESSERA_CHECK(T <= config_.seq_len, "sequence length T = {} exceeds the model's seq_len {}", T,
                config_.seq_len);
  if (targets.defined()) {
    TESSERA_CHECK(targets.shape() == tokens.shape() && targets.dtype() == DType::i32,
                  "targets must be int32 of the tokens' shape {}, got {} of {}",
                  shape_str(tokens.shape()), shape_str(targets.shape()), dtype_name(targets.dtype()));
  }
  acts_->ready_for_backward = false;
  acts_->has_logits = false;
  return dispatch_float(dtype_, [&]<typename F>() { return forward_impl<F>(tokens, targets, options); });
}

void Transformer::backward(const GradReadyFn& on_ready) {
  TESSERA_CHECK(acts_->ready_for_backward, "backward() needs a forward with targets first");
  dispatch_float(dtype_, [&]<typename F>() { backward_impl<F>(on_ready); });
  acts_->ready_for_backward = false;
}

template <typename F>
double Transformer::forward_impl(const Tensor& tokens, const Tensor& targets,
                                 const ForwardOptions& options) {
  using namespace cpu;
  const ModelConfig& c = config_;
  Activations& a = *acts_;
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t B = tokens.size(0), T = tokens.size(1), N = B * T;
  const int64_t C = c.d_model, D = c.head_dim(), V = c.vocab_size, tp = tp_->size();
  const int64_t NH = c.n_head / tp, NKV = c.kv_heads() / tp, Fd = c.ff_dim() / tp, Vl = a.vocab.rows;
  const int64_t QKV = (NH + 2 * NKV) * D;  // this rank's heads and features (all of them when tp = 1)
  const DType dt = dtype_;
  const bool inv = options.batch_invariant;
  auto P = [&](size_t i) -> const F* { return i == kAbsent ? nullptr : params_.tensor(i).data<F>(); };
  const bool bf16 = std::is_same_v<F, float> && !inv && precision_ == Precision::bf16;
  Arena& ar = acts_arena_;
  // bf16: a linear layer's input (n) rounded into the arena, kept for backward; undefined in fp32.
  auto rounded = [&](const Tensor& inp) {
    Tensor t;
    if constexpr (std::is_same_v<F, float>) {
      if (bf16) {
        t = ar.alloc(inp.shape(), DType::bf16);
        cpu::round_to_bf16(bf16_bits(t), inp.data<float>(), inp.numel());
      }
    }
    return t;
  };
  // out (N,OC) = inp (N,C) @ weight w^T + bias b, in this model's precision (inb: inp rounded)
  auto linear = [&](F* out, const F* inp, const Tensor& inb, size_t w, size_t b, int64_t N_, int64_t C_,
                    int64_t OC_) {
    if constexpr (std::is_same_v<F, float>) {
      if (inb.defined()) {
        return linear_forward_bf16(out, bf16_bits(inb), bf16_weight(w)->wt, P(b), nullptr, N_, C_, OC_);
      }
    }
    linear_forward<F>(out, inp, P(w), P(b), N_, C_, OC_, inv);
  };
  // The bf16 operands of a row-parallel layer, or none.
  auto operands = [&](const Tensor& inb, size_t w) {
    return inb.defined() ? Bf16Operands{bf16_bits(inb), &bf16_weight(w)->wt} : Bf16Operands{};
  };

  acts_arena_.reset();
  a.B = B;
  a.T = T;
  a.tokens = ar.alloc({B, T}, DType::i32);
  a.tokens.copy_from(tokens);
  a.targets = Tensor();
  if (targets.defined()) {
    a.targets = ar.alloc({B, T}, DType::i32);
    a.targets.copy_from(targets);
    const int32_t* y = a.targets.data<int32_t>();
    for (int64_t i = 0; i < N; ++i) {
      TESSERA_CHECK(y[i] == kIgnoreTarget || (y[i] >= 0 && y[i] < V),
                    "target id {} at position {} is outside [0, {})", y[i], i, V);
    }
  }
  const int32_t* tok = a.tokens.data<int32_t>();

  // Vocab-parallel token embedding: this rank's rows of the table, zero rows for the other
  // tokens; the all-reduce sums the shards into the full embeddings on every rank (exactly: the
  // other shards add zeros). The replicated positions are added by rank 0 alone, so they count
  // once.
  a.x0 = ar.alloc({N, C}, dt);
  embedding_forward<F>(a.x0.data<F>(), tok, nullptr, P(a.wte), tp_->rank() == 0 ? P(a.wpe) : nullptr, B, T, C,
                       V, c.seq_len, a.vocab);
  tp_->all_reduce_sum(a.x0.data<F>(), N * C);

  a.layers.resize(static_cast<size_t>(c.n_layer));
  Tensor x = a.x0;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    Activations::Layer& L = a.layers[l];
    const LayerIndex& li = a.index[l];
    L.in = x;
    L.n1 = ar.alloc({N, C}, dt);
    L.n1_rstd = ar.alloc({N}, dt);
    if (gpt2) {
      L.n1_mean = ar.alloc({N}, dt);
      layernorm_forward<F>(L.n1.data<F>(), L.n1_mean.data<F>(), L.n1_rstd.data<F>(), x.data<F>(),
                           P(li.attn_norm_w), P(li.attn_norm_b), N, C, kNormEps);
    } else {
      rmsnorm_forward<F>(L.n1.data<F>(), L.n1_rstd.data<F>(), x.data<F>(), P(li.attn_norm_w), N, C,
                         kNormEps);
    }
    // Column-parallel QKV: this rank's rows of the fused weight are its query heads, then its
    // kv heads (shard_ranges' q|k|v segments), so attention runs on its heads with no
    // communication.
    L.qkv = ar.alloc({N, QKV}, dt);
    L.n1b = rounded(L.n1);
    linear(L.qkv.data<F>(), L.n1.data<F>(), L.n1b, li.qkv_w, li.qkv_b, N, C, QKV);
    if (!gpt2) {
      rope_forward<F>(L.qkv.data<F>(), nullptr, B, T, NH, D, QKV, kRopeTheta);
      rope_forward<F>(L.qkv.data<F>() + NH * D, nullptr, B, T, NKV, D, QKV, kRopeTheta);
    }
    L.att = ar.alloc({B, NH, T, T}, dt);
    L.atty = ar.alloc({N, NH * D}, dt);
    L.qkvb = rounded(L.qkv);
    if constexpr (std::is_same_v<F, float>) {
      if (L.qkvb.defined()) {
        L.attb = ar.alloc({B, NH, T, T}, DType::bf16);
        attention_forward_bf16(L.atty.data<F>(), L.att.data<F>(), bf16_bits(L.attb), bf16_bits(L.qkvb), B, T, NH,
                               NKV, D);
      }
    }
    if (!L.qkvb.defined()) attention_forward<F>(L.atty.data<F>(), L.att.data<F>(), L.qkv.data<F>(), B, T, NH, NKV, D, inv);
    // res1 (N,C) = in + atty @ out^T + out_b; row-parallel over this rank's heads
    L.res1 = ar.alloc({N, C}, dt);
    L.attyb = rounded(L.atty);
    row_parallel_forward<F>(L.res1.data<F>(), L.atty.data<F>(), P(li.out_w), P(li.out_b), x.data<F>(), N,
                            NH * D, C, inv, *tp_, operands(L.attyb, li.out_w));

    L.n2 = ar.alloc({N, C}, dt);
    L.n2_rstd = ar.alloc({N}, dt);
    if (gpt2) {
      L.n2_mean = ar.alloc({N}, dt);
      layernorm_forward<F>(L.n2.data<F>(), L.n2_mean.data<F>(), L.n2_rstd.data<F>(),
                           L.res1.data<F>(), P(li.mlp_norm_w), P(li.mlp_norm_b), N, C, kNormEps);
    } else {
      rmsnorm_forward<F>(L.n2.data<F>(), L.n2_rstd.data<F>(), L.res1.data<F>(), P(li.mlp_norm_w), N,
                         C, kNormEps);
    }
    // Column-parallel up (and gate): this rank's Fd hidden features.
    L.fch = ar.alloc({N, Fd}, dt);
    L.n2b = rounded(L.n2);
    if (gpt2) {
      L.fc = ar.alloc({N, Fd}, dt);
      linear(L.fc.data<F>(), L.n2.data<F>(), L.n2b, li.up_w, li.up_b, N, C, Fd);
      gelu_forward<F>(L.fch.data<F>(), L.fc.data<F>(), N * Fd);
    } else {
      L.gate = ar.alloc({N, Fd}, dt);
      L.up = ar.alloc({N, Fd}, dt);
      linear(L.gate.data<F>(), L.n2.data<F>(), L.n2b, li.gate_w, kAbsent, N, C, Fd);
      linear(L.up.data<F>(), L.n2.data<F>(), L.n2b, li.up_w, kAbsent, N, C, Fd);
      swiglu_forward<F>(L.fch.data<F>(), L.gate.data<F>(), L.up.data<F>(), N * Fd);
    }
    // res2 (N,C) = res1 + fch @ down^T + down_b; row-parallel over this rank's hidden features
    L.res2 = ar.alloc({N, C}, dt);
    L.fchb = rounded(L.fch);
    row_parallel_forward<F>(L.res2.data<F>(), L.fch.data<F>(), P(li.down_w), P(li.down_b), L.res1.data<F>(), N,
                            Fd, C, inv, *tp_, operands(L.fchb, li.down_w));
    x = L.res2;
  }

  a.xf = ar.alloc({N, C}, dt);
  a.xf_rstd = ar.alloc({N}, dt);
  if (gpt2) {
    a.xf_mean = ar.alloc({N}, dt);
    layernorm_forward<F>(a.xf.data<F>(), a.xf_mean.data<F>(), a.xf_rstd.data<F>(), x.data<F>(),
                         P(a.final_w), P(a.final_b), N, C, kNormEps);
  } else {
    rmsnorm_forward<F>(a.xf.data<F>(), a.xf_rstd.data<F>(), x.data<F>(), P(a.final_w), N, C, kNormEps);
  }
  // logits (N,Vl) = xf @ head^T (head: the token embedding when tied), this rank's vocabulary
  a.logits = ar.alloc({N, Vl}, dt);
  a.xfb = rounded(a.xf);
  linear(a.logits.data<F>(), a.xf.data<F>(), a.xfb, a.head, kAbsent, N, C, Vl);
  if (!targets.defined()) {
    if (tp > 1) {
      const Tensor full = ar.alloc({N, V}, dt);
      gather_vocab_shards<F>(full.data<F>(), a.logits.data<F>(), N, Vl, a.vocab.begin, *tp_);
      a.logits = full;
    }
    a.logits = a.logits.reshape({B, T, V});
    a.has_logits = true;
    return 0.0;
  }
  // The logits buffer becomes dlogits: the gradient of the mean loss. One rank holding the whole
  // vocabulary runs the fused single-pass kernel, in bf16 precision writing bf16 dlogits.
  a.dlogits_bf16 = Tensor();
  double loss = 0.0;
  if (tp > 1) {
    loss = vocab_parallel_cross_entropy<F>(a.logits.data<F>(), a.targets.data<int32_t>(), N, Vl, a.vocab.begin, *tp_);
  } else if (a.xfb.defined()) {
    a.dlogits_bf16 = ar.alloc({N, V}, DType::bf16);
    if constexpr (std::is_same_v<F, float>) {
      loss = softmax_cross_entropy_bf16_grad(a.logits.data<F>(), bf16_bits(a.dlogits_bf16), a.targets.data<int32_t>(),
                                             N, V);
    }
  } else {
    loss = softmax_cross_entropy<F>(a.logits.data<F>(), a.logits.data<F>(), nullptr, a.targets.data<int32_t>(), N, V);
  }
  a.ready_for_backward = true;
  return loss;
}

template <typename F>
void Transformer::backward_impl(const GradReadyFn& on_ready) {
  using namespace cpu;
  const ModelConfig& c = config_;
  Activations& a = *acts_;
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t B = a.B, T = a.T, N = B * T;
  const int64_t C = c.d_model, D = c.head_dim(), tp = tp_->size();
  const int64_t NH = c.n_head / tp, NKV = c.kv_heads() / tp, Fd = c.ff_dim() / tp, Vl = a.vocab.rows;
  const int64_t QKV = (NH + 2 * NKV) * D;
  const DType dt = dtype_;
  auto P = [&](size_t i) -> const F* { return i == kAbsent ? nullptr : params_.tensor(i).data<F>(); };
  auto G = [&](size_t i) -> F* { return i == kAbsent ? nullptr : grads_.tensor(i).data<F>(); };
  Arena& ar = grad_arena_;
  grad_arena_.reset();
  // bf16: scratch for an output gradient rounded to bf16, the largest (the head's when its dlogits are f32)
  const int64_t widest = std::max({C, QKV, Fd, a.dlogits_bf16.defined() ? 0 : Vl});
  const Tensor dbf = a.xfb.defined() ? ar.alloc({N * widest}, DType::bf16) : Tensor();
  // dout (N,OC) -> dinp (N,C) (+)=, the gradients of weight w and bias b +=, in this model's precision:
  // bf16 when the forward kept inb, the input rounded (dout then rounded here unless db is given).
  auto linear_back = [&](F* dinp, size_t w, size_t b, const F* dout, const uint16_t* db, const F* inp,
                         const Tensor& inb, int64_t N_, int64_t C_, int64_t OC_, bool add_to_dinp) {
    if constexpr (std::is_same_v<F, float>) {
      if (inb.defined()) {
        if (!db) {
          cpu::round_to_bf16(bf16_bits(dbf), dout, N_ * OC_);
          db = bf16_bits(dbf);
        }
        linear_backward_bf16(dinp, G(w), db, bf16_bits(inb), bf16_weight(w)->w, N_, C_, OC_, add_to_dinp);
        if (b != kAbsent) linear_backward<F>(nullptr, nullptr, G(b), dout, nullptr, nullptr, N_, C_, OC_);
        return;
      }
    }
    linear_backward<F>(dinp, G(w), G(b), dout, inp, P(w), N_, C_, OC_, add_to_dinp);
  };
  auto ready = [&](std::initializer_list<size_t> indices) {
    if (!on_ready) return;
    for (size_t i : indices) {
      if (i != kAbsent) on_ready(i);
    }
  };
  // The input gradient of column-parallel layers is a partial sum over this rank's output
  // features: Megatron's "f" all-reduces it.
  auto reduce_dn = [&](const Tensor& t) { tp_->all_reduce_sum(t.data<F>(), N * C); };

  // Scratch gradients, reused by every layer. A GEMM writing one first overwrites it
  // (add_to_dinp = false); the ones other kernels add into are zeroed before use.
  Tensor dx = ar.zeros({N, C}, dt);  // gradient of the residual stream at the current depth
  Tensor dn = ar.alloc({N, C}, dt);  // gradient of a norm's output
  Tensor dqkv = ar.alloc({N, QKV}, dt);
  Tensor datty = ar.alloc({N, NH * D}, dt);
  Tensor dfch = ar.alloc({N, Fd}, dt);  // d(fch), then in place d(fc) (gpt2) or d(gate) (llama)
  Tensor dup = gpt2 ? Tensor() : ar.alloc({N, Fd}, dt);

  // Output head (column-parallel over the vocabulary) and final norm.
  const bool bf16_dlogits = a.dlogits_bf16.defined();
  linear_back(dn.data<F>(), a.head, kAbsent, bf16_dlogits ? nullptr : a.logits.data<F>(),
              bf16_dlogits ? bf16_bits(a.dlogits_bf16) : nullptr, a.xf.data<F>(), a.xfb, N, C, Vl, false);
  reduce_dn(dn);
  if (a.head != a.wte) ready({a.head});  // a tied head also gathers the embedding's gradient
  const Tensor& x_last = a.layers.back().res2;
  if (gpt2) {
    layernorm_backward<F>(dx.data<F>(), G(a.final_w), G(a.final_b), dn.data<F>(), x_last.data<F>(),
                          P(a.final_w), a.xf_mean.data<F>(), a.xf_rstd.data<F>(), N, C);
  } else {
    rmsnorm_backward<F>(dx.data<F>(), G(a.final_w), dn.data<F>(), x_last.data<F>(), P(a.final_w),
                        a.xf_rstd.data<F>(), N, C);
  }
  ready({a.final_w, a.final_b});

  for (int64_t l = c.n_layer - 1; l >= 0; --l) {
    const Activations::Layer& L = a.layers[l];
    const LayerIndex& li = a.index[l];
    // dx holds d(res2); the skip connection passes it on to d(res1) unchanged.
    linear_back(dfch.data<F>(), li.down_w, li.down_b, dx.data<F>(), nullptr, L.fch.data<F>(), L.fchb, N, Fd, C, false);
    ready({li.down_w, li.down_b});
    if (gpt2) {
      gelu_backward<F>(dfch.data<F>(), L.fc.data<F>(), dfch.data<F>(), N * Fd);
      linear_back(dn.data<F>(), li.up_w, li.up_b, dfch.data<F>(), nullptr, L.n2.data<F>(), L.n2b, N, C, Fd, false);
      reduce_dn(dn);
      layernorm_backward<F>(dx.data<F>(), G(li.mlp_norm_w), G(li.mlp_norm_b), dn.data<F>(),
                            L.res1.data<F>(), P(li.mlp_norm_w), L.n2_mean.data<F>(),
                            L.n2_rstd.data<F>(), N, C);
    } else {
      swiglu_backward<F>(dfch.data<F>(), dup.data<F>(), dfch.data<F>(), L.gate.data<F>(),
                         L.up.data<F>(), N * Fd);
      linear_back(dn.data<F>(), li.gate_w, kAbsent, dfch.data<F>(), nullptr, L.n2.data<F>(), L.n2b, N, C, Fd, false);
      linear_back(dn.data<F>(), li.up_w, kAbsent, dup.data<F>(), nullptr, L.n2.data<F>(), L.n2b, N, C, Fd, true);
      reduce_dn(dn);
      rmsnorm_backward<F>(dx.data<F>(), G(li.mlp_norm_w), dn.data<F>(), L.res1.data<F>(),
                          P(li.mlp_norm_w), L.n2_rstd.data<F>(), N, C);
    }
    ready({li.up_w, li.up_b, li.gate_w, li.mlp_norm_w, li.mlp_norm_b});
    // dx holds d(res1); the skip connection passes it on to d(in).
    linear_back(datty.data<F>(), li.out_w, li.out_b, dx.data<F>(), nullptr, L.atty.data<F>(), L.attyb, N, NH * D, C,
                false);
    ready({li.out_w, li.out_b});
    dqkv.zero_();
    if constexpr (std::is_same_v<F, float>) {
      if (L.qkvb.defined()) {
        cpu::round_to_bf16(bf16_bits(dbf), datty.data<F>(), N * NH * D);
        attention_backward_bf16(dqkv.data<F>(), bf16_bits(dbf), bf16_bits(L.qkvb), L.att.data<F>(),
                                bf16_bits(L.attb), B, T, NH, NKV, D);
      }
    }
    if (!L.qkvb.defined()) {
      attention_backward<F>(dqkv.data<F>(), datty.data<F>(), L.qkv.data<F>(), L.att.data<F>(), B, T, NH, NKV, D);
    }
    if (!gpt2) {
      rope_backward<F>(dqkv.data<F>(), nullptr, B, T, NH, D, QKV, kRopeTheta);
      rope_backward<F>(dqkv.data<F>() + NH * D, nullptr, B, T, NKV, D, QKV, kRopeTheta);
    }
    linear_back(dn.data<F>(), li.qkv_w, li.qkv_b, dqkv.data<F>(), nullptr, L.n1.data<F>(), L.n1b, N, C, QKV, false);
    reduce_dn(dn);
    if (gpt2) {
      layernorm_backward<F>(dx.data<F>(), G(li.attn_norm_w), G(li.attn_norm_b), dn.data<F>(),
                            L.in.data<F>(), P(li.attn_norm_w), L.n1_mean.data<F>(),
                            L.n1_rstd.data<F>(), N, C);
    } else {
      rmsnorm_backward<F>(dx.data<F>(), G(li.attn_norm_w), dn.data<F>(), L.in.data<F>(),
                          P(li.attn_norm_w), L.n1_rstd.data<F>(), N, C);
    }
    ready({li.qkv_w, li.qkv_b, li.attn_norm_w, li.attn_norm_b});
  }
  // dx is replicated: each rank adds into its vocabulary rows, and every rank into the positions.
  embedding_backward<F>(G(a.wte), G(a.wpe), dx.data<F>(), a.tokens.data<int32_t>(), nullptr, B, T, C, a.vocab);
  ready({a.wte, a.wpe});
}

}  // namespace tessera::core
