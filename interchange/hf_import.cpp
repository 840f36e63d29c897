#include "interchange/hf_import.h"

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "interchange/hf_config.h"
#include "interchange/hf_tensor_map.h"
#include "interchange/safetensors.h"

namespace tessera::interchange {
namespace {

using J = nlohmann::json;

J read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  TESSERA_CHECK(in, "cannot open {}", path.string());
  try {
    return J::parse(in);
  } catch (const J::parse_error& e) {
    TESSERA_FAIL("{}: not valid JSON: {}", path.string(), e.what());
  }
}

// The weight files of a model directory and which one holds each tensor.
class WeightFiles {
 public:
  explicit WeightFiles(const std::filesystem::path& dir) {
    const auto single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
    if (std::filesystem::exists(single)) {
      open(single.string());
    } else {
      TESSERA_CHECK(std::filesystem::exists(index), "{}: no model.safetensors or model.safetensors.index.json "
                    "(only safetensors weights are read)", dir.string());
      const J j = read_json(index);
      const auto map = j.find("weight_map");
      TESSERA_CHECK(j.is_object() && map != j.end() && map->is_object(), "{}: no \"weight_map\" object",
                    index.string());
      for (const auto& [name, file] : map->items()) {
        TESSERA_CHECK(file.is_string() && file.get<std::string>().find('/') == std::string::npos,
                      "{}: tensor '{}' names file {}, not a file of this directory", index.string(), name, file.dump());
        open((dir / file.get<std::string>()).string());
      }
    }
  }

  // Every tensor name of every file.
  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& [name, r] : where_) out.insert(name);
    return out;
  }
  bool contains(const std::string& name) const { return where_.count(name) > 0; }
  const SafetensorsReader& reader(const std::string& name) const { return *where_.at(name); }

 private:
  void open(const std::string& path) {
    if (readers_.count(path)) return;
    auto r = std::make_unique<SafetensorsReader>(path);
    for (const auto& e : r->entries()) {
      TESSERA_CHECK(!where_.count(e.name), "tensor '{}' is in both {} and {}", e.name, where_.at(e.name)->path(), path);
      where_[e.name] = r.get();
    }
    readers_[path] = std::move(r);
  }
  std::map<std::string, std::unique_ptr<SafetensorsReader>> readers_;
  std::map<std::string, const SafetensorsReader*> where_;
};

bool is_ignored_buffer(const std::string& name) {
  auto ends_with = [&](std::string_view s) { return name.size() >= s.size() && name.ends_with(s); };
  return ends_with(".attn.bias") || ends_with(".attn.masked_bias") || ends_with(".rotary_emb.inv_freq");
}

// Copies `src` (the Hugging Face layout of mapping m) into the parameter.
void copy_into(const HfTensorMapping& m, const core::Tensor& src, const core::Tensor& param) {
  const core::Tensor dst = m.rows > 0 ? param.slice(0, m.row0, m.rows) : param;
  const float* s = src.data<float>();
  float* d = dst.data<float>();  // rows of a contiguous parameter: contiguous
  if (!m.transposed) {
    std::memcpy(d, s, static_cast<size_t>(dst.numel()) * sizeof(float));
    return;
  }
  const int64_t R = dst.size(0), C = dst.size(1);
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t c = 0; c < C; ++c) d[r * C + c] = s[c * R + r];
  }
}

}  // namespace

HfModel import_hf(const std::filesystem::path& dir) {
  const auto cfg_path = dir / "config.json";
  HfModel out;
  out.config = model_config_from_hf(read_json(cfg_path), cfg_path.string());
  out.model = std::make_unique<core::Transformer>(out.config, core::DType::f32);
  const WeightFiles files(dir);
  std::set<std::string> unused = files.names();
  // GPT2Model files name tensors without the "transformer." prefix that GPT2LMHeadModel adds.
  auto find = [&](const std::string& name) -> std::string {
    if (files.contains(name)) return name;
    const std::string prefix = "transformer.";
    if (name.starts_with(prefix) && files.contains(name.substr(prefix.size()))) return name.substr(prefix.size());
    TESSERA_FAIL("{}: tensor '{}' is missing", dir.string(), name);
  };
  const core::ParamRegistry& params = out.model->params();
  for (const HfTensorMapping& m : hf_tensor_map(out.config)) {
    const std::string name = find(m.hf_name);
    const SafetensorsReader& r = files.reader(name);
    const core::Shape want = hf_shape(m, params[m.param].shape());
    TESSERA_CHECK(r.entry(name).shape == want, "{}: tensor '{}' has shape {}, the config implies {}", r.path(), name,
                  core::shape_str(r.entry(name).shape), core::shape_str(want));
    copy_into(m, r.read_f32(name), params[m.param]);
    unused.erase(name);
  }
  for (const std::string& name : std::set<std::string>(unused)) {
    if (is_ignored_buffer(name)) {
      unused.erase(name);
    } else if (name == "lm_head.weight" && out.config.tie_embeddings) {
      // Some writers save the tied head as well: accept it only if it is the embedding.
      const core::Tensor head = files.reader(name).read_f32(name);
      const core::Tensor& emb = params["embed.tokens.weight"];
      TESSERA_CHECK(head.shape() == emb.shape() &&
                        std::memcmp(head.raw(), emb.raw(), static_cast<size_t>(emb.nbytes())) == 0,
                    "{}: lm_head.weight differs from the token embedding, but tie_word_embeddings is true",
                    dir.string());
      unused.erase(name);
    }
  }
  TESSERA_CHECK(unused.empty(), "{}: {} tensor(s) that a {} model does not have, e.g. '{}'", dir.string(),
                unused.size(), out.config.family, unused.empty() ? "" : *unused.begin());
  const auto tok_path = dir / "tokenizer.json";
  if (std::filesystem::exists(tok_path)) {
    out.tokenizer = datasets::Tokenizer::load(tok_path.string());
    TESSERA_CHECK(static_cast<int64_t>(out.tokenizer->vocab_size()) <= out.config.vocab_size, "{}: {} tokens, more "
                  "than the model's vocabulary of {}", tok_path.string(), out.tokenizer->vocab_size(),
                  out.config.vocab_size);
  }
  return out;
}

}  // namespace tessera::interchange
