#pragma once
// Small models, tokenizers and values shared by the GGUF tests.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/model/model_config.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_train.h"
#include "tests/support/tiny_model.h"

namespace tessera::interchange::testing {

inline std::vector<float> random_values(size_t n, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A small byte-level BPE tokenizer trained on a fixed text.
inline datasets::Tokenizer small_tokenizer(size_t vocab) {
  datasets::WordCounts counts;
  counts.add_text("the quick brown fox jumps over the lazy dog; the dog sleeps, the fox runs. "
                  "tokenizers turn text into tokens and tokens back into text.");
  return datasets::train_bpe(counts, vocab);
}

// 2 layers, d_model 64, 4 heads (llama: 2 key/value heads), 16 positions.
inline ModelConfig small_config(const std::string& family, int64_t vocab) {
  return testing_support::tiny_model(family, {.d_model = 64, .vocab_size = vocab, .tie_embeddings = true});
}

inline std::vector<float> param_values(const core::Transformer& m, const std::string& name) {
  const core::Tensor& t = m.params()[name];
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

}  // namespace tessera::interchange::testing
