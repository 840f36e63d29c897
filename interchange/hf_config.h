#pragma once
// Hugging Face config.json <-> ModelConfig, for GPT2LMHeadModel (gpt2 family) and
// LlamaForCausalLM (llama family). Import accepts only configs whose model Tessera computes
// exactly (same activation, norm epsilon, RoPE base and layout); anything else is a
// tessera::Error naming the key, never a silently different model.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/model_config.h"

namespace tessera::interchange {

// Numerics fixed in core/model/transformer.cpp that other formats state explicitly.
constexpr double kModelNormEps = 1e-5;      // LayerNorm and RMSNorm epsilon
constexpr double kModelRopeTheta = 10000.0;  // RoPE base

// config.json for the model; eos_id (and bos, the same id as GPT-2 uses) when the tokenizer has one.
nlohmann::json hf_config_json(const ModelConfig& config, std::optional<uint32_t> eos_id);

// The ModelConfig of a config.json; `source` names the file in errors. d_ff and n_kv_head are 0
// when they are the family's defaults, as a Tessera config writes them.
ModelConfig model_config_from_hf(const nlohmann::json& config, const std::string& source);

}  // namespace tessera::interchange
