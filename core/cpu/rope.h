#pragma once
// Rotary position embedding, rotate-half layout (Hugging Face LLaMA): within each head of D
// values, element i pairs with i + D/2 and the pair is rotated by angle pos * theta^(-2i/D):
//   out[i]       = x[i] cos - x[i+D/2] sin
//   out[i+D/2]   = x[i+D/2] cos + x[i] sin
#include <cstdint>

namespace tessera::core::cpu {

// x: (B,T,H,D) heads, token rows ld elements apart (ld >= H*D: q and k live inside the fused qkv
// row); pos (B,T) positions or null (position t). Rotates in place.
template <typename T>
void rope_forward(T* x, const int32_t* pos, int64_t B, int64_t Tlen, int64_t H, int64_t D,
                  int64_t ld, double theta = 10000.0);

// dx: the gradient w.r.t. the rotated values, turned in place into the gradient w.r.t. the
// inputs (the rotation is orthogonal, so this rotates by the opposite angle).
template <typename T>
void rope_backward(T* dx, const int32_t* pos, int64_t B, int64_t Tlen, int64_t H, int64_t D,
                   int64_t ld, double theta = 10000.0);

}  // namespace tessera::core::cpu
