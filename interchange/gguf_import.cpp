#include "interchange/gguf_import.h"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "interchange/gguf_reader.h"
#include "interchange/gguf_tensor_map.h"
#include "interchange/gguf_tokenizer.h"
#include "interchange/hf_config.h"
#include "run/config.h"

namespace tessera::interchange {
namespace {

// The architecture's hyper-parameter keys, read with the file named in every error.
class Hparams {
 public:
  Hparams(const GgufFile& f, std::string arch, std::string path) : f_(f), arch_(std::move(arch)), path_(std::move(path)) {}

  int64_t positive(const std::string& key) const {
    const int64_t v = f_.at(arch_ + "." + key).as_int();
    TESSERA_CHECK(v > 0, "{}: {}.{} must be positive, got {}", path_, arch_, key, v);
    return v;
  }
  int64_t positive_or(const std::string& key, int64_t fallback) const {
    return f_.has(arch_ + "." + key) ? positive(key) : fallback;
  }
  // A float key (absent: `fallback`) that must equal what Tessera computes with, to f32 precision.
  void require_float(const std::string& key, double fallback, double want) const {
    const std::string k = arch_ + "." + key;
    const double got = f_.has(k) ? f_.at(k).as_float() : fallback;
    TESSERA_CHECK(std::fabs(got - want) <= 1e-6 * want, "{}: {} = {} is not supported (Tessera computes with {})",
                  path_, k, got, want);
  }
  void require_int(const std::string& key, int64_t want) const {
    const std::string k = arch_ + "." + key;
    TESSERA_CHECK(!f_.has(k) || f_.at(k).as_int() == want, "{}: {} = {} is not supported (Tessera needs {})", path_,
                  k, f_.at(k).as_int(), want);
  }
  void require_absent_or(const std::string& key, const std::string& want) const {
    const std::string k = arch_ + "." + key;
    TESSERA_CHECK(!f_.has(k) || f_.at(k).as_string() == want, "{}: {} = \"{}\" is not supported", path_, k,
                  f_.at(k).as_string());
  }

 private:
  const GgufFile& f_;
  std::string arch_, path_;
};

ModelConfig model_config(const GgufFile& f, const std::string& path) {
  const std::string arch = f.at("general.architecture").as_string();
  ModelConfig c;
  c.family = family_from_name(arch, path + ": general.architecture");
  const Hparams h(f, arch, path);
  c.seq_len = h.positive("context_length");
  c.d_model = h.positive("embedding_length");
  c.n_layer = h.positive("block_count");
  c.n_head = h.positive("attention.head_count");
  const int64_t kv = h.positive_or("attention.head_count_kv", c.n_head);
  const int64_t ff = h.positive("feed_forward_length");
  TESSERA_CHECK(c.d_model % c.n_head == 0 && c.n_head % kv == 0, "{}: embedding_length {}, {} heads and {} "
                "key/value heads do not divide evenly", path, c.d_model, c.n_head, kv);
  const int64_t head_dim = c.d_model / c.n_head;
  h.require_int("attention.key_length", head_dim);
  h.require_int("attention.value_length", head_dim);
  if (c.family == Family::gpt2) {
    h.require_float("attention.layer_norm_epsilon", 1e-5, kModelNormEps);
  } else {
    h.require_float("attention.layer_norm_rms_epsilon", 1e-5, kModelNormEps);
    h.require_float("rope.freq_base", kModelRopeTheta, kModelRopeTheta);
    h.require_int("rope.dimension_count", head_dim);
    h.require_absent_or("rope.scaling.type", "none");
  }
  // The vocabulary is token_embd's (the key is optional in llama.cpp's files).
  const GgufTensorInfo& embd = f.tensor("token_embd.weight");
  TESSERA_CHECK(embd.dims.size() == 2, "{}: token_embd.weight has {} dims, not 2", path, embd.dims.size());
  c.vocab_size = embd.dims[1];
  h.require_int("vocab_size", c.vocab_size);
  c.tie_embeddings = !f.has_tensor("output.weight");
  c.n_kv_head = kv == c.n_head ? 0 : kv;
  c.d_ff = ff == c.ff_dim() ? 0 : ff;
  return c;
}

// Writes a mapping's GGUF tensor into its parameter (or rows of it), undoing the RoPE reordering.
void copy_into(const GgufTensorMapping& m, const std::vector<float>& src, const core::Tensor& param, int64_t D) {
  float* dst = param.data<float>();
  if (m.rows == 0) {
    std::copy(src.begin(), src.end(), dst);
    return;
  }
  const int64_t C = m.shape[1];
  const std::vector<int64_t> order = gguf_rope_row_order(D);
  for (int64_t r = 0; r < m.rows; ++r) {
    const int64_t row = m.rope_heads ? r / D * D + order[r % D] : r;
    std::copy_n(src.begin() + r * C, C, dst + (m.row0 + row) * C);
  }
}

}  // namespace

GgufModel import_gguf(const std::string& path) {
  const GgufFile f = GgufFile::read(path);
  const ModelConfig c = model_config(f, path);
  Config whole;
  whole.model = c;
  whole.validate(path);
  // Every tensor is checked before the model is allocated: its size is then bounded by the file's.
  const std::vector<GgufTensorMapping> map = gguf_tensor_map(c);
  std::set<std::string> unused;
  for (const GgufTensorInfo& t : f.tensors()) unused.insert(t.name);
  for (const GgufTensorMapping& m : map) {
    TESSERA_CHECK(f.has_tensor(m.gguf_name), "{}: tensor '{}' is missing", path, m.gguf_name);
    const GgufTensorInfo& t = f.tensor(m.gguf_name);
    TESSERA_CHECK(t.dims == gguf_dims(m), "{}: tensor '{}' has dims [{}], the keys imply [{}]", path, m.gguf_name,
                  fmt::join(t.dims, ", "), fmt::join(gguf_dims(m), ", "));
    unused.erase(m.gguf_name);
  }
  TESSERA_CHECK(unused.empty(), "{}: {} tensor(s) that a {} model does not have, e.g. '{}'", path, unused.size(),
                c.family, unused.empty() ? "" : *unused.begin());
  datasets::Tokenizer tokenizer = read_gguf_tokenizer(f, path);
  TESSERA_CHECK(static_cast<int64_t>(tokenizer.vocab_size()) <= c.vocab_size, "{}: {} tokens, more than the model's "
                "vocabulary of {}", path, tokenizer.vocab_size(), c.vocab_size);
  auto model = std::make_unique<core::Transformer>(c, core::DType::f32);
  for (const GgufTensorMapping& m : map) {
    copy_into(m, f.read_f32(m.gguf_name), model->params()[m.param], c.head_dim());
  }
  return {c, std::move(model), std::move(tokenizer)};
}

}  // namespace tessera::interchange
