#pragma once
// Small model configurations for the tests: a few layers of a few dimensions, fast on one core.
// One builder, so that every test means the same by "a tiny llama": grouped-query attention with
// half as many kv heads as query heads; gpt2 with tied embeddings, llama without (unless told).
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/model/model_config.h"

namespace tessera::testing_support {

struct TinySizes {
  int64_t n_layer = 2;
  int64_t d_model = 32;
  int64_t n_head = 4;
  int64_t d_ff = 0;  // 0: the family's default
  int64_t seq_len = 16;
  int64_t vocab_size = 64;
  std::optional<bool> tie_embeddings = std::nullopt;  // unset: gpt2 ties, llama does not
};

inline ModelConfig tiny_model(std::string_view family, const TinySizes& s) {
  ModelConfig c;
  c.family = family_from_name(family, "tiny_model");
  c.n_layer = s.n_layer;
  c.d_model = s.d_model;
  c.n_head = s.n_head;
  c.n_kv_head = c.family == Family::llama ? s.n_head / 2 : 0;
  c.d_ff = s.d_ff;
  c.seq_len = s.seq_len;
  c.vocab_size = s.vocab_size;
  c.tie_embeddings = s.tie_embeddings.value_or(c.family == Family::gpt2);
  return c;
}

}  // namespace tessera::testing_support
