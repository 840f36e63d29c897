#include "interchange/hf_export.h"

#include <fstream>

#include "core/error.h"
#include "interchange/hf_config.h"
#include "interchange/hf_tensor_map.h"
#include "interchange/safetensors.h"

namespace tessera::interchange {
namespace {

// The mapped block of a parameter as a new fp32 tensor in the Hugging Face layout.
core::Tensor hf_tensor(const HfTensorMapping& m, const core::Tensor& param) {
  core::Tensor block = m.rows > 0 ? param.slice(0, m.row0, m.rows) : param;
  block = block.to(core::DType::f32);  // a contiguous copy
  if (!m.transposed) return block;
  const int64_t R = block.size(0), C = block.size(1);
  core::Tensor t = core::Tensor::empty({C, R});
  const float* src = block.data<float>();
  float* dst = t.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t c = 0; c < C; ++c) dst[c * R + r] = src[r * C + c];
  }
  return t;
}

}  // namespace

void export_hf(const ModelConfig& config, const core::ParamRegistry& params, const datasets::Tokenizer* tokenizer,
               const std::filesystem::path& dir) {
  std::optional<uint32_t> eos;
  if (tokenizer) {
    TESSERA_CHECK(static_cast<int64_t>(tokenizer->vocab_size()) <= config.vocab_size, "the tokenizer has {} tokens, "
                  "more than the model's vocabulary of {}", tokenizer->vocab_size(), config.vocab_size);
    eos = tokenizer->special_id("<|endoftext|>");
  }
  const nlohmann::json cfg = hf_config_json(config, eos);
  std::vector<std::pair<std::string, core::Tensor>> tensors;
  for (const HfTensorMapping& m : hf_tensor_map(config)) {
    tensors.emplace_back(m.hf_name, hf_tensor(m, params[m.param]));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TESSERA_CHECK(!ec, "cannot create {}: {}", dir.string(), ec.message());
  write_safetensors((dir / "model.safetensors").string(), tensors, {{"format", "pt"}});
  const auto cfg_path = dir / "config.json";
  std::ofstream out(cfg_path);
  out << cfg.dump(2) << "\n";
  TESSERA_CHECK(out, "cannot write {}", cfg_path.string());
  if (tokenizer) tokenizer->save_hf((dir / "tokenizer.json").string());
}

}  // namespace tessera::interchange
