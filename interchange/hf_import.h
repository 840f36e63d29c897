#pragma once
// A Hugging Face model directory -> a Tessera model: config.json mapped back (hf_config.h), the
// weights of model.safetensors (or of the files model.safetensors.index.json names) converted to
// fp32 (F32 bit-exact, F16 and BF16 widened), and tokenizer.json when present.
//
// Every parameter must be found with its exact shape. Tensors the model does not use are an error,
// except buffers that older files carry (GPT-2's attn.bias / attn.masked_bias masks, LLaMA's
// rotary_emb.inv_freq) and an lm_head.weight equal to the tied token embedding. GPT-2 names are
// accepted with or without the "transformer." prefix (GPT2Model files have none).
#include <filesystem>
#include <memory>
#include <optional>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"

namespace tessera::interchange {

struct HfModel {
  ModelConfig config;
  std::unique_ptr<core::Transformer> model;   // f32
  std::optional<datasets::Tokenizer> tokenizer;
};

HfModel import_hf(const std::filesystem::path& dir);

}  // namespace tessera::interchange
