#pragma once
// Fused softmax + cross-entropy over the vocabulary: one pass computes each row's loss and,
// when asked, its gradient in place of the logits (the exponentials are written once, into
// dlogits, then normalised; probabilities are never stored separately).
#include <cstdint>

namespace tessera::core::cpu {

// Rows whose target is this value are ignored (padding): no loss, zero gradient.
inline constexpr int32_t kIgnoreTarget = -1;

// logits (N,V), targets (N) in [0,V) or kIgnoreTarget -> losses (N) (null: not returned),
// dlogits (N,V) (null: no gradient; may alias logits) = (softmax - onehot(target)) / n_valid,
// the gradient of the returned mean loss. Returns the mean loss over rows with a target, 0 when
// there are none. Throws tessera::Error for a target outside [0,V).
template <typename T>
double softmax_cross_entropy(const T* logits, T* dlogits, T* losses, const int32_t* targets,
                             int64_t N, int64_t V);

}  // namespace tessera::core::cpu
