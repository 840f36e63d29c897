#pragma once
// Text generation from a model: greedy (temperature 0) or sampling with a temperature and an
// optional top-k cut, seeded. The context is cropped to the model's seq_len.
#include <cstdint>
#include <vector>

#include "core/model/transformer.h"

namespace tessera::train {

struct SampleOptions {
  int64_t max_tokens = 64;
  double temperature = 0.0;  // 0: greedy
  int64_t top_k = 0;         // 0: the whole vocabulary
  uint64_t seed = 0;
  int64_t stop_token = -1;   // generation ends after emitting it (e.g. end-of-text); -1: never
  // Only ids below this are drawn (the tokenizer's vocabulary when the model's is padded past
  // it); 0: the model's whole vocabulary.
  int64_t vocab_limit = 0;
};

// The generated ids (not including the prompt). prompt: at least one id.
std::vector<int32_t> generate(core::Transformer& model, const std::vector<int32_t>& prompt, const SampleOptions& options);

}  // namespace tessera::train
