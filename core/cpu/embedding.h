#pragma once
// Token embedding plus an optional learned position embedding (GPT-2); LLaMA passes wpe = null
// and applies RoPE inside attention instead.
#include <cstdint>

namespace tessera::core::cpu {

// tokens (B,T) in [0,V), pos (B,T) positions or null (position t), wte (V,C),
// wpe (P,C) or null -> out (B,T,C). Throws tessera::Error for a token outside [0,V) or a position
// outside [0,P).
template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const int32_t* pos, const T* wte,
                       const T* wpe, int64_t B, int64_t Tlen, int64_t C, int64_t V, int64_t P);

// dout (B,T,C) -> dwte (V,C) +=, dwpe (P,C) += (null skips it)
template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens,
                        const int32_t* pos, int64_t B, int64_t Tlen, int64_t C);

}  // namespace tessera::core::cpu
