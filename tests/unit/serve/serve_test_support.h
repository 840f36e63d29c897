#pragma once
// Helpers shared by the serving tests: a byte-level tokenizer (one token per byte, as byte-level
// BPE falls back to, and <|endoftext|> = 256).
#include <string>
#include <utility>

#include "datasets/tokenizer.h"

namespace tessera::serve::testing {

inline datasets::Tokenizer byte_tokenizer() {
  datasets::BpeParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.push_back(std::string(1, static_cast<char>(b)));
  parts.tokens.push_back("<|endoftext|>");
  parts.specials.push_back(256);
  return datasets::Tokenizer::from_parts(std::move(parts), "bytes");
}

}  // namespace tessera::serve::testing
