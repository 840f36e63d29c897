#pragma once
// Helpers shared by the serving tests: a byte-level tokenizer (one token per byte, as byte-level
// BPE falls back to, and <|endoftext|> = 256) and small model configs of both families.
#include <string>
#include <utility>

#include "core/config.h"
#include "datasets/tokenizer.h"

namespace tessera::serve::testing {

inline datasets::Tokenizer byte_tokenizer() {
  datasets::BpeParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.push_back(std::string(1, static_cast<char>(b)));
  parts.tokens.push_back("<|endoftext|>");
  parts.specials.push_back(256);
  return datasets::Tokenizer::from_parts(std::move(parts), "bytes");
}

// 2 layers, d_model 32, 4 heads; llama: 2 kv heads (GQA) and an untied head; gpt2: tied.
inline ModelConfig small_model(const std::string& family, int64_t seq_len, int64_t vocab_size) {
  ModelConfig c;
  c.family = family;
  c.n_layer = 2;
  c.d_model = 32;
  c.n_head = 4;
  c.n_kv_head = family == "llama" ? 2 : 0;
  c.seq_len = seq_len;
  c.vocab_size = vocab_size;
  c.tie_embeddings = family == "gpt2";
  return c;
}

}  // namespace tessera::serve::testing
