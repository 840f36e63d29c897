#pragma once
// Token embedding plus an optional learned position embedding (GPT-2); LLaMA passes wpe = null
// and applies RoPE inside attention instead.
//
// Vocab-parallel: wte may hold only the rows [begin, begin+rows) of the (V,C) table (a
// tensor-parallel rank's shard). Tokens outside the shard then give zero rows forward and no
// gradient backward; summing the outputs over the shards gives the full lookup, exactly (the
// other shards add zeros).
#include <cstdint>

namespace tessera::core::cpu {

// The rows of the token table that a wte pointer holds; rows < 0 means all V of them.
struct VocabShard {
  int64_t begin = 0;
  int64_t rows = -1;
};

// tokens (B,T) in [0,V), pos (B,T) positions or null (position t), wte (shard.rows or V, C),
// wpe (P,C) or null -> out (B,T,C). Throws tessera::Error for a token outside [0,V) or a position
// outside [0,P).
template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const int32_t* pos, const T* wte,
                       const T* wpe, int64_t B, int64_t Tlen, int64_t C, int64_t V, int64_t P,
                       VocabShard shard = {});

// dout (B,T,C) -> dwte (shard.rows or V, C) += (rows of tokens in the shard), dwpe (P,C) +=
// (null skips either)
template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens,
                        const int32_t* pos, int64_t B, int64_t Tlen, int64_t C,
                        VocabShard shard = {});

}  // namespace tessera::core::cpu
