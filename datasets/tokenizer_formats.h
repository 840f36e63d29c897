#pragma once
// The readers of the tokenizer's JSON formats, from a parsed document, so that load() parses a file
// once to tell the formats apart and once only.
#include <string>

#include <nlohmann/json.hpp>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

Tokenizer tokenizer_from_own_json(const nlohmann::json& j, const std::string& source);  // tokenizer_json.cpp
Tokenizer tokenizer_from_hf_json(const nlohmann::json& j, const std::string& source);   // tokenizer_hf.cpp

}  // namespace tessera::datasets
