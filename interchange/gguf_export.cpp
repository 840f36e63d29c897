#include "interchange/gguf_export.h"

#include <fmt/format.h>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "interchange/gguf_quant.h"
#include "interchange/gguf_writer.h"
#include "interchange/hf_config.h"

namespace tessera::interchange {
namespace {

using gguf::TensorType;

// llama.cpp's token types (llama_token_type).
constexpr int32_t kTokenNormal = 1, kTokenControl = 3, kTokenUnused = 5;
// llama.cpp's file types (llama_ftype) and the ggml quantisation version.
constexpr uint32_t kFileTypeF32 = 0, kFileTypeF16 = 1, kFileTypeQ8_0 = 7, kQuantizationVersion = 2;

// A parameter as fp32, row-major.
std::vector<float> param_f32(const core::ParamRegistry& params, const std::string& name) {
  const core::Tensor& t = params[name];
  const core::Tensor f = t.dtype() == core::DType::f32 ? t.clone() : t.to(core::DType::f32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + f.numel());
}

class Exporter {
 public:
  Exporter(const ModelConfig& config, const core::ParamRegistry& params, const GgufExportOptions& options)
      : config_(config), params_(params), options_(options) {}

  GgufWriter& writer() { return writer_; }

  // A parameter under its GGUF name, checked against the shape the config implies.
  void tensor(const std::string& gguf_name, const std::string& param, const core::Shape& shape) {
    const core::Shape& actual = params_[param].shape();
    TESSERA_CHECK(actual == shape, "parameter {} has shape {}, expected {}", param, core::shape_str(actual),
                  core::shape_str(shape));
    add(gguf_name, shape, param_f32(params_, param));
  }

  // Rows [row0, row0 + rows) of a (R, C) parameter; with rope_heads, each head of D rows reordered
  // to llama.cpp's interleaved RoPE layout.
  void rows(const std::string& gguf_name, const std::string& param, int64_t row0, int64_t n_rows, bool rope_heads) {
    const core::Shape& shape = params_[param].shape();
    TESSERA_CHECK(shape.size() == 2 && row0 + n_rows <= shape[0], "parameter {} of shape {} has no rows [{}, {})",
                  param, core::shape_str(shape), row0, row0 + n_rows);
    const int64_t C = shape[1], D = config_.head_dim();
    const std::vector<float> all = param_f32(params_, param);
    const std::vector<int64_t> order = gguf_rope_row_order(D);
    std::vector<float> out(static_cast<size_t>(n_rows * C));
    for (int64_t r = 0; r < n_rows; ++r) {
      const int64_t src = rope_heads ? r / D * D + order[r % D] : r;
      std::copy_n(all.begin() + (row0 + src) * C, C, out.begin() + r * C);
    }
    add(gguf_name, {n_rows, C}, std::move(out));
  }

 private:
  void add(const std::string& name, const core::Shape& shape, std::vector<float> values) {
    // GGUF dims run from the contiguous axis outwards: the reverse of the row-major shape.
    std::vector<int64_t> dims(shape.rbegin(), shape.rend());
    TensorType type = TensorType::f32;
    if (shape.size() == 2 && options_.dtype != TensorType::f32) {
      type = options_.dtype == TensorType::q8_0 && dims[0] % gguf::kQ8Block == 0 ? TensorType::q8_0 : TensorType::f16;
    }
    try {
      writer_.add_tensor(name, dims, type, gguf_encode(values, type));
    } catch (const Error& e) {
      TESSERA_FAIL("GGUF tensor {}: {}", name, e.what());
    }
  }

  const ModelConfig& config_;
  const core::ParamRegistry& params_;
  const GgufExportOptions& options_;
  GgufWriter writer_;
};

void add_hparams(GgufWriter& w, const ModelConfig& c, const std::string& arch, const GgufExportOptions& o) {
  w.add_string("general.architecture", arch);
  w.add_string("general.name", o.name);
  const uint32_t file_type = o.dtype == TensorType::f32 ? kFileTypeF32
                             : o.dtype == TensorType::f16 ? kFileTypeF16 : kFileTypeQ8_0;
  w.add_u32("general.file_type", file_type);
  if (o.dtype == TensorType::q8_0) w.add_u32("general.quantization_version", kQuantizationVersion);
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  w.add_u32(arch + ".context_length", u32(c.seq_len));
  w.add_u32(arch + ".embedding_length", u32(c.d_model));
  w.add_u32(arch + ".block_count", u32(c.n_layer));
  w.add_u32(arch + ".feed_forward_length", u32(c.ff_dim()));
  w.add_u32(arch + ".attention.head_count", u32(c.n_head));
  w.add_u32(arch + ".attention.head_count_kv", u32(c.kv_heads()));
  w.add_u32(arch + ".vocab_size", u32(c.vocab_size));
  if (arch == "gpt2") {
    w.add_f32(arch + ".attention.layer_norm_epsilon", static_cast<float>(kModelNormEps));
  } else {
    w.add_f32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(kModelNormEps));
    w.add_f32(arch + ".rope.freq_base", static_cast<float>(kModelRopeTheta));
    w.add_u32(arch + ".rope.dimension_count", u32(c.head_dim()));
  }
}

void add_tokenizer(GgufWriter& w, const datasets::Tokenizer& tok, int64_t vocab_size) {
  const datasets::BpeParts& p = tok.parts();
  TESSERA_CHECK(static_cast<int64_t>(p.tokens.size()) <= vocab_size, "the tokenizer has {} tokens, more than the "
                "model's vocabulary of {}", p.tokens.size(), vocab_size);
  std::vector<bool> special(p.tokens.size(), false);
  for (const datasets::TokenId id : p.specials) special[id] = true;
  // Byte-level BPE vocabularies spell ordinary tokens in the byte-unicode form and special tokens
  // as their text, as GPT-2's encoder.json and tokenizer.json do.
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (size_t i = 0; i < p.tokens.size(); ++i) {
    tokens.push_back(special[i] ? p.tokens[i] : datasets::bytes_to_unicode(p.tokens[i]));
    types.push_back(special[i] ? kTokenControl : kTokenNormal);
  }
  for (auto i = static_cast<int64_t>(p.tokens.size()); i < vocab_size; ++i) {
    tokens.push_back(fmt::format("[PAD{}]", i));
    types.push_back(kTokenUnused);
  }
  std::vector<std::string> merges;
  merges.reserve(p.merges.size());
  for (const auto& [a, b] : p.merges) {
    merges.push_back(datasets::bytes_to_unicode(p.tokens[a]) + " " + datasets::bytes_to_unicode(p.tokens[b]));
  }
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_i32s("tokenizer.ggml.token_type", types);
  w.add_strings("tokenizer.ggml.merges", merges);
  if (const auto eot = tok.special_id("<|endoftext|>")) {
    w.add_u32("tokenizer.ggml.bos_token_id", *eot);
    w.add_u32("tokenizer.ggml.eos_token_id", *eot);
  }
  w.add_bool("tokenizer.ggml.add_bos_token", false);
}

}  // namespace

std::vector<int64_t> gguf_rope_row_order(int64_t D) {
  const int64_t half = D / 2;
  std::vector<int64_t> order(static_cast<size_t>(D));
  for (int64_t i = 0; i < half; ++i) {
    order[2 * i] = i;
    order[2 * i + 1] = half + i;
  }
  return order;
}

void export_gguf(const ModelConfig& c, const core::ParamRegistry& params, const datasets::Tokenizer& tokenizer,
                 const std::string& path, const GgufExportOptions& options) {
  TESSERA_CHECK(c.family == "gpt2" || c.family == "llama", "GGUF export: unknown model family '{}'", c.family);
  const bool gpt2 = c.family == "gpt2";
  const int64_t V = c.vocab_size, C = c.d_model, F = c.ff_dim(), D = c.head_dim();
  const int64_t NH = c.n_head, NKV = c.kv_heads(), QKV = (NH + 2 * NKV) * D;
  Exporter e(c, params, options);
  add_hparams(e.writer(), c, gpt2 ? "gpt2" : "llama", options);
  add_tokenizer(e.writer(), tokenizer, V);

  e.tensor("token_embd.weight", "embed.tokens.weight", {V, C});
  if (gpt2) e.tensor("position_embd.weight", "embed.positions.weight", {c.seq_len, C});
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string g = fmt::format("blk.{}.", i), t = fmt::format("blocks.{}.", i);
    e.tensor(g + "attn_norm.weight", t + "attn_norm.weight", {C});
    e.tensor(g + "ffn_norm.weight", t + "mlp_norm.weight", {C});
    e.tensor(g + "attn_output.weight", t + "attn.out.weight", {C, NH * D});
    e.tensor(g + "ffn_up.weight", t + "mlp.up.weight", {F, C});
    e.tensor(g + "ffn_down.weight", t + "mlp.down.weight", {C, F});
    if (gpt2) {
      e.tensor(g + "attn_norm.bias", t + "attn_norm.bias", {C});
      e.tensor(g + "ffn_norm.bias", t + "mlp_norm.bias", {C});
      e.tensor(g + "attn_qkv.weight", t + "attn.qkv.weight", {QKV, C});
      e.tensor(g + "attn_qkv.bias", t + "attn.qkv.bias", {QKV});
      e.tensor(g + "attn_output.bias", t + "attn.out.bias", {C});
      e.tensor(g + "ffn_up.bias", t + "mlp.up.bias", {F});
      e.tensor(g + "ffn_down.bias", t + "mlp.down.bias", {C});
    } else {
      TESSERA_CHECK(params[t + "attn.qkv.weight"].shape() == core::Shape({QKV, C}), "parameter {} has shape {}, "
                    "expected {}", t + "attn.qkv.weight", core::shape_str(params[t + "attn.qkv.weight"].shape()),
                    core::shape_str({QKV, C}));
      e.rows(g + "attn_q.weight", t + "attn.qkv.weight", 0, NH * D, true);
      e.rows(g + "attn_k.weight", t + "attn.qkv.weight", NH * D, NKV * D, true);
      e.rows(g + "attn_v.weight", t + "attn.qkv.weight", (NH + NKV) * D, NKV * D, false);
      e.tensor(g + "ffn_gate.weight", t + "mlp.gate.weight", {F, C});
    }
  }
  e.tensor("output_norm.weight", "final_norm.weight", {C});
  if (gpt2) e.tensor("output_norm.bias", "final_norm.bias", {C});
  // Without output.weight llama.cpp uses token_embd as the output layer: the tied case.
  if (!c.tie_embeddings) e.tensor("output.weight", "lm_head.weight", {V, C});
  e.writer().write(path);
}

}  // namespace tessera::interchange
