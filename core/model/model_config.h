#pragma once
// The shape of a model: its family and sizes, the [model] section of a run config (run/config.h).
#include <cstdint>

#include "core/model/family.h"

namespace tessera {

struct ModelConfig {
  Family family = Family::gpt2;  // core/model/family.h; config files spell it by name: "gpt2", "llama"
  int64_t n_layer = 4;
  int64_t d_model = 256;
  int64_t n_head = 4;
  int64_t n_kv_head = 0;       // 0 means n_head (no grouped-query attention)
  int64_t d_ff = 0;            // 0 means the family's default: 4*d_model (gpt2), 8/3*d_model rounded up to 64 (llama)
  int64_t seq_len = 256;       // the longest sequence the model accepts (T)
  int64_t vocab_size = 8192;
  bool tie_embeddings = true;  // output projection shares the token embedding

  int64_t kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
  int64_t ff_dim() const { return d_ff > 0 ? d_ff : default_ff_dim(family, d_model); }
  int64_t head_dim() const { return d_model / n_head; }
};

}  // namespace tessera
