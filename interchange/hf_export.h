#pragma once
// Tessera model -> a Hugging Face model directory that transformers loads with
// AutoModelForCausalLM: config.json (hf_config.h), model.safetensors (fp32, names and layouts of
// hf_tensor_map.h) and, with a tokenizer, tokenizer.json.
#include <filesystem>

#include "core/model/model_config.h"
#include "core/model/params.h"
#include "datasets/tokenizer.h"

namespace tessera::interchange {

// `params`: the model's full (unsharded) parameters, f32 or f64 (written as fp32). Creates `dir`
// if needed. Throws tessera::Error for what the Hugging Face class cannot express (GPT-2 with
// grouped-query attention) or a parameter of the wrong shape.
void export_hf(const ModelConfig& config, const core::ParamRegistry& params, const datasets::Tokenizer* tokenizer,
               const std::filesystem::path& dir);

}  // namespace tessera::interchange
