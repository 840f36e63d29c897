#include "serve/forward.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/cpu/activations.h"
#include "core/cpu/attention.h"
#include "core/cpu/embedding.h"
#include "core/cpu/layernorm.h"
#include "core/cpu/parallel.h"
#include "core/cpu/rmsnorm.h"
#include "core/cpu/rope.h"
#include "core/error.h"
#include "core/model/params.h"
#include "core/model/vocab_parallel.h"

namespace tessera::serve {

namespace {
constexpr double kNormEps = 1e-5;    // as training (transformer.cpp)
constexpr double kRopeTheta = 10000.0;
}  // namespace

void StepBatch::clear() {
  tokens.clear();
  positions.clear();
  seq.clear();
  tables.clear();
  logit_rows.clear();
}

void StepBatch::add(const BlockTable& table, const std::vector<int32_t>& ids, int64_t start, bool want_logits,
                    bool all_logits) {
  const auto s = static_cast<int32_t>(tables.size());
  tables.push_back(&table);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (all_logits || (want_logits && i + 1 == ids.size())) logit_rows.push_back(static_cast<int32_t>(tokens.size()));
    tokens.push_back(ids[i]);
    positions.push_back(static_cast<int32_t>(start + static_cast<int64_t>(i)));
    seq.push_back(s);
  }
}

KvCacheShape kv_cache_shape(const core::Transformer& model, int64_t block_size, core::DType dtype) {
  const ModelConfig& c = model.config();
  return {.n_layer = c.n_layer, .n_kv_head = c.kv_heads() / model.tp().size(), .head_dim = c.head_dim(),
          .block_size = block_size, .dtype = dtype};
}

core::DType default_kv_dtype(WeightPrecision weights) {
  return weights == WeightPrecision::f32 ? core::DType::f32 : core::DType::bf16;
}

// Pointers to this rank's parameter shards, resolved once (null: absent in this family), and its
// projections in the serving precision.
struct InferenceForward::Weights {
  struct Layer {
    const float *attn_norm_w, *attn_norm_b, *qkv_b, *out_b;
    const float *mlp_norm_w, *mlp_norm_b, *up_b, *down_b;
    Projection qkv, out, up, gate, down;  // gate: llama only
  };
  const float *wte, *wpe, *final_w, *final_b;
  Projection head;
  std::vector<Layer> layers;
  core::cpu::VocabShard vocab;
  int64_t f32_bytes = 0;  // the projections' bytes in f32 (head once)
};

InferenceForward::InferenceForward(core::Transformer& model, KvCache& cache, bool batch_invariant,
                                   WeightPrecision weights)
    : model_(model), cache_(cache), inv_(batch_invariant), precision_(weights), w_(std::make_unique<Weights>()) {
  TESSERA_CHECK(model.dtype() == core::DType::f32, "serving runs f32 models, not {}", dtype_name(model.dtype()));
  const KvCacheShape want = kv_cache_shape(model, cache.shape().block_size), got = cache.shape();
  TESSERA_CHECK(got.n_layer == want.n_layer && got.n_kv_head == want.n_kv_head && got.head_dim == want.head_dim,
                "the KV cache ({} layers, {} kv heads of {}) does not fit the model ({} layers, {} kv heads of {})",
                got.n_layer, got.n_kv_head, got.head_dim, want.n_layer, want.n_kv_head, want.head_dim);
  const core::ParamRegistry& p = model.params();
  auto find = [&](const std::string& name) -> const float* {
    return p.contains(name) ? p[name].data<float>() : nullptr;
  };
  Weights& w = *w_;
  w.wte = find("embed.tokens.weight");
  w.wpe = find("embed.positions.weight");
  w.final_w = find("final_norm.weight");
  w.final_b = find("final_norm.bias");
  const core::ParamInfo& wte = p.info(p.index_of("embed.tokens.weight"));
  w.vocab = {core::shard_ranges(wte, model.tp().rank(), model.tp().size())[0].start, p["embed.tokens.weight"].size(0)};
  const ModelConfig& c = model.config();
  const int64_t C = c.d_model, D = c.head_dim(), tp = model.tp().size();
  const int64_t NH = c.n_head / tp, NKV = c.kv_heads() / tp, Fd = c.ff_dim() / tp, QKV = (NH + 2 * NKV) * D;
  auto projection = [&](const std::string& name, int64_t OC, int64_t K) {
    const float* weight = find(name);
    if (!weight) return Projection();
    w.f32_bytes += OC * K * 4;
    return Projection(weight, OC, K, weights);
  };
  w.head = projection(c.tie_embeddings ? "embed.tokens.weight" : "lm_head.weight", w.vocab.rows, C);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    w.layers.push_back({find(b + "attn_norm.weight"), find(b + "attn_norm.bias"), find(b + "attn.qkv.bias"),
                        find(b + "attn.out.bias"), find(b + "mlp_norm.weight"), find(b + "mlp_norm.bias"),
                        find(b + "mlp.up.bias"), find(b + "mlp.down.bias"),
                        projection(b + "attn.qkv.weight", QKV, C), projection(b + "attn.out.weight", C, NH * D),
                        projection(b + "mlp.up.weight", Fd, C), projection(b + "mlp.gate.weight", Fd, C),
                        projection(b + "mlp.down.weight", C, Fd)});
  }
  // Per thread: the page pointers and the attention scratch of the longest context.
  const int64_t ctx = c.seq_len, pages = ctx / cache.shape().block_size + 1;
  scratch_.resize(static_cast<size_t>(omp_get_max_threads()));
  for (Scratch& sc : scratch_) {
    for (auto* v : {&sc.f32.keys, &sc.f32.values}) v->assign(static_cast<size_t>(pages), nullptr);
    for (auto* v : {&sc.bf16.keys, &sc.bf16.values}) v->assign(static_cast<size_t>(pages), nullptr);
    sc.floats.assign(static_cast<size_t>(core::cpu::paged_attention_scratch(NH / NKV, ctx, D)), 0.0f);
  }
}

InferenceForward::~InferenceForward() = default;

int64_t InferenceForward::weight_bytes() const {
  int64_t bytes = model_.params().numel() * 4 - w_->f32_bytes + w_->head.bytes();
  for (const Weights::Layer& L : w_->layers) {
    for (const Projection* pr : {&L.qkv, &L.out, &L.up, &L.gate, &L.down}) bytes += pr->bytes();
  }
  return bytes;
}

void InferenceForward::check(const StepBatch& b) const {
  const int64_t N = b.rows(), S = static_cast<int64_t>(b.tables.size());
  const int64_t bs = cache_.shape().block_size, ctx = model_.config().seq_len;
  TESSERA_CHECK(N >= 1, "an empty step");
  TESSERA_CHECK(static_cast<int64_t>(b.positions.size()) == N && static_cast<int64_t>(b.seq.size()) == N,
                "a step's tokens, positions and sequences differ in length");
  for (int64_t r = 0; r < N; ++r) {
    const int32_t s = b.seq[r], pos = b.positions[r];
    TESSERA_CHECK(s >= 0 && s < S, "row {} names sequence {} of {}", r, s, S);
    TESSERA_CHECK(pos >= 0 && pos < ctx, "position {} is outside the model's context of {} tokens", pos, ctx);
    TESSERA_CHECK(pos / bs < static_cast<int64_t>(b.tables[s]->blocks.size()),
                  "position {} of sequence {} has no block in its table", pos, s);
    if (r > 0 && b.seq[r - 1] == s) {
      TESSERA_CHECK(b.positions[r - 1] + 1 == pos, "rows {} and {} of one sequence are not consecutive", r - 1, r);
    } else {
      TESSERA_CHECK(pos <= b.tables[s]->n_cached, "sequence {} starts at position {} past its {} cached tokens", s,
                    pos, b.tables[s]->n_cached);
    }
  }
  for (int32_t r : b.logit_rows) TESSERA_CHECK(r >= 0 && r < N, "logit row {} of {}", r, N);
}

// The keys and values of each row (inside its qkv row, after RoPE) into its cache slot, as E
// (rounded to nearest even for bf16).
template <typename E>
void InferenceForward::write_kv_as(int64_t layer, const float* qkv, const StepBatch& b) {
  const KvCacheShape& s = cache_.shape();
  const int64_t NH = model_.config().n_head / model_.tp().size(), D = s.head_dim, KV = s.n_kv_head * D;
  const int64_t QKV = NH * D + 2 * KV;
  for (int64_t r = 0; r < b.rows(); ++r) {
    const int64_t pos = b.positions[r];
    const int32_t block = b.tables[b.seq[r]]->blocks[pos / s.block_size];
    const float* row = qkv + r * QKV + NH * D;
    const int64_t slot = (pos % s.block_size) * D;
    for (int64_t g = 0; g < s.n_kv_head; ++g) {
      E* k = cache_.key<E>(layer, block, g) + slot;
      E* v = cache_.value<E>(layer, block, g) + slot;
      for (int64_t d = 0; d < D; ++d) {
        k[d] = E(row[g * D + d]);
        v[d] = E(row[KV + g * D + d]);
      }
    }
  }
}

void InferenceForward::write_kv(int64_t layer, const float* qkv, const StepBatch& b) {
  if (cache_.shape().dtype == core::DType::f32) {
    write_kv_as<float>(layer, qkv, b);
  } else {
    write_kv_as<core::bf16>(layer, qkv, b);
  }
}

// out (N, NH*D): each row's query heads over its sequence's cached keys and values [0, pos], read
// in place from the paged blocks. Work items are (run of rows of one sequence, kv head); each row
// attends with the kv head's group of query heads at once.
template <typename E>
void InferenceForward::attend_as(int64_t layer, float* out, const float* qkv, const StepBatch& b) {
  const KvCacheShape& s = cache_.shape();
  const int64_t D = s.head_dim, NKV = s.n_kv_head, NH = model_.config().n_head / model_.tp().size();
  const int64_t QKV = (NH + 2 * NKV) * D, group = NH / NKV, bs = s.block_size;
  std::vector<std::pair<int64_t, int64_t>> runs;  // [first, last] rows of one sequence
  for (int64_t r = 0; r < b.rows(); ++r) {
    if (r == 0 || b.seq[r] != b.seq[r - 1]) runs.push_back({r, r});
    runs.back().second = r;
  }
  int64_t work = 0;
  for (const auto& [first, last] : runs) work += (last - first + 1) * (b.positions[last] + 1) * NH * D;
  const auto items = static_cast<int64_t>(runs.size()) * NKV;
#pragma omp parallel for schedule(dynamic) if (core::cpu::parallel_worth(work))
  for (int64_t item = 0; item < items; ++item) {
    const auto [first, last] = runs[static_cast<size_t>(item / NKV)];
    const int64_t g = item % NKV, pages = b.positions[last] / bs + 1;
    const BlockTable& table = *b.tables[b.seq[first]];
    Scratch& sc = scratch_[static_cast<size_t>(omp_get_thread_num())];
    Pages<E>& pg = sc.pages<E>();
    for (int64_t p = 0; p < pages; ++p) {
      pg.keys[static_cast<size_t>(p)] = cache_.key<E>(layer, table.blocks[static_cast<size_t>(p)], g);
      pg.values[static_cast<size_t>(p)] = cache_.value<E>(layer, table.blocks[static_cast<size_t>(p)], g);
    }
    const core::cpu::PagedContext<E> ctx{pg.keys.data(), pg.values.data(), bs, D};
    for (int64_t r = first; r <= last; ++r) {
      core::cpu::attention_rows_paged<float>(out + r * NH * D + g * group * D, D, qkv + r * QKV + g * group * D, D,
                                             group, ctx, b.positions[r] + 1, D, sc.floats.data());
    }
  }
}

void InferenceForward::attend(int64_t layer, float* out, const float* qkv, const StepBatch& b) {
  if (cache_.shape().dtype == core::DType::f32) {
    attend_as<float>(layer, out, qkv, b);
  } else {
    attend_as<core::bf16>(layer, out, qkv, b);
  }
}

const core::Tensor& InferenceForward::forward(const StepBatch& b) {
  using namespace core::cpu;
  check(b);
  const ModelConfig& c = model_.config();
  core::TpGroup& tp = model_.tp();
  const Weights& w = *w_;
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t N = b.rows(), R = static_cast<int64_t>(b.logit_rows.size());
  const int64_t C = c.d_model, D = c.head_dim(), V = c.vocab_size, Vl = w.vocab.rows;
  const int64_t NH = c.n_head / tp.size(), NKV = c.kv_heads() / tp.size(), Fd = c.ff_dim() / tp.size();
  const int64_t QKV = (NH + 2 * NKV) * D;
  const int32_t* pos = b.positions.data();
  auto norm = [&](float* out, const float* in, const float* weight, const float* bias, int64_t rows) {
    const core::Tensor stats = arena_.alloc({2, rows});  // (2, rows) mean and rstd
    if (gpt2) {
      layernorm_forward<float>(out, stats.data<float>(), stats.data<float>() + rows, in, weight, bias, rows, C,
                               kNormEps);
    } else {
      rmsnorm_forward<float>(out, stats.data<float>() + rows, in, weight, rows, C, kNormEps);
    }
  };

  arena_.reset();
  // x (N,C): vocab-parallel token embedding (+ positions, added by rank 0 alone), summed over ranks.
  core::Tensor x = arena_.alloc({N, C});
  embedding_forward<float>(x.data<float>(), b.tokens.data(), pos, w.wte, tp.rank() == 0 ? w.wpe : nullptr, 1, N, C,
                           V, c.seq_len, w.vocab);
  tp.all_reduce_sum(x.data<float>(), N * C);
  const core::Tensor n = arena_.alloc({N, C});          // (N,C) a norm's output
  const core::Tensor qkv = arena_.alloc({N, QKV});      // (N,(NH+2*NKV)*D)
  const core::Tensor atty = arena_.alloc({N, NH * D});  // (N,NH*D)
  const core::Tensor res1 = arena_.alloc({N, C});       // (N,C)
  const core::Tensor hid = arena_.alloc({N, Fd});       // (N,Fd) up projection (gpt2) or gate (llama)
  const core::Tensor up = arena_.alloc({N, Fd});        // (N,Fd) llama's up projection
  const core::Tensor fch = arena_.alloc({N, Fd});       // (N,Fd) activation output
  core::Tensor res2 = arena_.alloc({N, C});             // (N,C) the block's output
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const Weights::Layer& L = w.layers[static_cast<size_t>(l)];
    norm(n.data<float>(), x.data<float>(), L.attn_norm_w, L.attn_norm_b, N);
    L.qkv.forward(qkv.data<float>(), n.data<float>(), L.qkv_b, nullptr, N, inv_);
    if (!gpt2) {
      rope_forward<float>(qkv.data<float>(), pos, 1, N, NH, D, QKV, kRopeTheta);
      rope_forward<float>(qkv.data<float>() + NH * D, pos, 1, N, NKV, D, QKV, kRopeTheta);
    }
    write_kv(l, qkv.data<float>(), b);
    attend(l, atty.data<float>(), qkv.data<float>(), b);
    L.out.row_parallel(res1.data<float>(), atty.data<float>(), L.out_b, x.data<float>(), N, inv_, tp);
    norm(n.data<float>(), res1.data<float>(), L.mlp_norm_w, L.mlp_norm_b, N);
    if (gpt2) {
      L.up.forward(hid.data<float>(), n.data<float>(), L.up_b, nullptr, N, inv_);
      gelu_forward<float>(fch.data<float>(), hid.data<float>(), N * Fd);
    } else {
      L.gate.forward(hid.data<float>(), n.data<float>(), nullptr, nullptr, N, inv_);
      L.up.forward(up.data<float>(), n.data<float>(), nullptr, nullptr, N, inv_);
      swiglu_forward<float>(fch.data<float>(), hid.data<float>(), up.data<float>(), N * Fd);
    }
    L.down.row_parallel(res2.data<float>(), fch.data<float>(), L.down_b, res1.data<float>(), N, inv_, tp);
    std::swap(x, res2);  // x is the block's output; the old x's memory serves the next block
  }
  // Only the rows asked for go through the final norm and the output head.
  const core::Tensor xs = arena_.alloc({std::max<int64_t>(R, 1), C});  // (R,C)
  for (int64_t i = 0; i < R; ++i) {
    std::memcpy(xs.data<float>() + i * C, x.data<float>() + b.logit_rows[i] * C, static_cast<size_t>(C) * sizeof(float));
  }
  const core::Tensor xf = arena_.alloc({std::max<int64_t>(R, 1), C});
  const core::Tensor shard = arena_.alloc({std::max<int64_t>(R, 1), Vl});  // (R,Vl)
  logits_ = arena_.alloc({R, V});                                         // (R,V)
  if (R == 0) return logits_;
  norm(xf.data<float>(), xs.data<float>(), w.final_w, w.final_b, R);
  w.head.forward(tp.size() == 1 ? logits_.data<float>() : shard.data<float>(), xf.data<float>(), nullptr, nullptr, R,
                 inv_);
  if (tp.size() > 1) core::gather_vocab_shards<float>(logits_.data<float>(), shard.data<float>(), R, Vl, w.vocab.begin, tp);
  return logits_;
}

}  // namespace tessera::serve
