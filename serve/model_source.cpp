#include "serve/model_source.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "checkpoint/checkpoint.h"
#include "checkpoint/run_tokenizer.h"
#include "core/error.h"
#include "interchange/gguf_format.h"
#include "interchange/gguf_import.h"
#include "interchange/hf_import.h"

namespace tessera::serve {
namespace {

namespace fs = std::filesystem;

bool is_gguf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  uint32_t magic = 0;
  in.read(reinterpret_cast<char*>(&magic), sizeof magic);
  return in && magic == interchange::gguf::kMagic;
}

ModelSource from_checkpoint(const ModelRef& ref) {
  checkpoint::Weights w = checkpoint::load_weights(ref.ckpt);
  auto tokenizer = checkpoint::find_tokenizer(w, ref.tokenizer);
  auto model = std::make_unique<core::Transformer>(w.config.model, core::DType::f32);
  TESSERA_CHECK(model->num_params() == w.params.numel(), "checkpoint '{}' holds {} weights, the model {}", ref.ckpt,
                w.params.numel(), model->num_params());
  std::memcpy(model->params().flat().data<float>(), w.params.flat().data<float>(),
              static_cast<size_t>(w.params.numel()) * sizeof(float));
  return {ref.ckpt, std::move(w.config), std::move(tokenizer), std::move(model)};
}

ModelSource from_file(const ModelRef& ref) {
  const fs::path path(ref.model);
  std::error_code ec;
  TESSERA_CHECK(fs::exists(path, ec), "model '{}': no such file or directory", ref.model);
  ModelSource s{ref.model, Config{}, std::nullopt, nullptr};
  if (fs::is_directory(path)) {
    TESSERA_CHECK(!fs::exists(path / "checkpoints"), "model '{}' is a Tessera run directory: give it as --ckpt",
                  ref.model);
    TESSERA_CHECK(fs::exists(path / "config.json"), "model '{}' is a directory without config.json: not a Hugging "
                  "Face model folder", ref.model);
    interchange::HfModel hf = interchange::import_hf(path);
    s.config.model = hf.config;
    s.tokenizer = std::move(hf.tokenizer);
    s.model = std::move(hf.model);
  } else {
    TESSERA_CHECK(is_gguf(path), "model '{}' is not a GGUF file (a Tessera checkpoint is given as --ckpt; a Hugging "
                  "Face model as its folder)", ref.model);
    interchange::GgufModel g = interchange::import_gguf(ref.model);
    s.config.model = g.config;
    s.tokenizer = std::move(g.tokenizer);
    s.model = std::move(g.model);
  }
  s.config.validate(ref.model);
  if (!ref.tokenizer.empty()) s.tokenizer = datasets::Tokenizer::load(ref.tokenizer);
  return s;
}

}  // namespace

const datasets::Tokenizer& ModelSource::require_tokenizer() const {
  TESSERA_CHECK(tokenizer.has_value(), "'{}' has no tokenizer (beside a checkpoint: RUN_DIR/tokenizer.json or its "
                "data's; in a folder: tokenizer.json): pass --tokenizer FILE", name);
  return *tokenizer;
}

ModelSource load_model_source(const ModelRef& ref) {
  TESSERA_CHECK(ref.ckpt.empty() != ref.model.empty(), "give a checkpoint (--ckpt) or a model file (--model), not {}",
                ref.ckpt.empty() ? "neither" : "both");
  ModelSource s = ref.ckpt.empty() ? from_file(ref) : from_checkpoint(ref);
  if (s.tokenizer) {
    TESSERA_CHECK(static_cast<int64_t>(s.tokenizer->vocab_size()) <= s.config.model.vocab_size, "'{}': the tokenizer "
                  "has {} tokens, more than the model's vocabulary of {}", s.name, s.tokenizer->vocab_size(),
                  s.config.model.vocab_size);
  }
  return s;
}

std::unique_ptr<core::Transformer> shard_model(const core::Transformer& whole, const ModelConfig& config,
                                               core::TpGroup& tp) {
  auto model = std::make_unique<core::Transformer>(config, core::DType::f32, &tp);
  core::ParamRegistry& dst = model->params();
  const core::ParamRegistry& full = whole.params();
  for (size_t i = 0; i < dst.size(); ++i) {
    float* out = dst.tensor(i).data<float>();
    const float* in = full[dst.info(i).name].data<float>();
    const int64_t n = dst.tensor(i).numel();
    if (!dst.is_sharded(i)) {
      std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
      continue;
    }
    const core::ShardIndexMap index(dst.info(i), dst.tp_rank(), dst.tp_size());
    for (int64_t e = 0; e < n; ++e) out[e] = in[index(e)];
  }
  return model;
}

std::unique_ptr<core::Transformer> shard_model(ModelSource& source, core::TpGroup* tp) {
  TESSERA_CHECK(source.model != nullptr, "model '{}' was already taken", source.name);
  if (tp == nullptr) return std::move(source.model);
  auto model = shard_model(*source.model, source.config.model, *tp);
  source.model.reset();
  return model;
}

}  // namespace tessera::serve
