#pragma once
// Elementwise MLP activations: GELU (tanh form, as GPT-2) and SwiGLU (LLaMA).
//
// Unlike the other backward kernels, these WRITE their input gradients (nothing upstream ever
// adds into them), and may run in place: dinp (or dgate) may be dout itself. The model then needs
// neither a zeroed buffer nor a second one.
#include <cstdint>

namespace tessera::core::cpu {

// inp (N) -> out (N) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n);
// dout (N) -> dinp (N) =
template <typename T>
void gelu_backward(T* dinp, const T* inp, const T* dout, int64_t n);

// gate (N), up (N) -> out (N) = silu(gate) * up, silu(x) = x * sigmoid(x). N is rows*d_ff; the two
// projections are separate tensors so each splits on its own output dimension under TP.
template <typename T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n);
// dout (N) -> dgate (N) =, dup (N) =
template <typename T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n);

}  // namespace tessera::core::cpu
