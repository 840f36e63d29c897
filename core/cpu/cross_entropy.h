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

// The same loss with the gradient written in bf16, for bf16 training's output head (a GEMM
// operand, gemm_bf16.h): each row's gradient is formed in f32 in a scratch row and rounded as
// round_to_bf16 rounds, so the f32 gradient never reaches memory. The loss is the f32 kernel's.
double softmax_cross_entropy_bf16_grad(const float* logits, uint16_t* dlogits, const int32_t* targets, int64_t N,
                                       int64_t V);

// Vocab-parallel cross-entropy in three passes over a shard of the vocabulary: logits (N,Vs)
// hold the columns [v0, v0+Vs) of the full (N,V) logits. Between the passes the caller combines
// the per-row statistics over the shards (a max, then sums), so no rank ever holds the full
// logits; with one shard (v0 = 0, Vs = V) the passes compute exactly softmax_cross_entropy.
// Targets are in [0,V) or kIgnoreTarget (checked by the caller).
//
// 1. mx (N) = the shard's row maxima (to be max-reduced over the shards).
template <typename T>
void cross_entropy_shard_max(T* mx, const T* logits, int64_t N, int64_t Vs);
// 2. with mx the maxima over the full vocabulary: dexp (N,Vs) = e^(logits - mx) (may alias
//    logits); stats (N,2) = {sum of the row of dexp, the target's logit when the shard holds the
//    target, else 0} (to be sum-reduced over the shards).
template <typename T>
void cross_entropy_shard_exp(T* dexp, double* stats, const T* logits, const T* mx, const int32_t* targets,
                             int64_t v0, int64_t N, int64_t Vs);
// 3. with stats summed over the shards: dexp (N,Vs) becomes the shard of dlogits, the gradient
//    of the returned mean loss over rows with a target (0 when there are none).
template <typename T>
double cross_entropy_shard_finish(T* dexp, const double* stats, const T* mx, const int32_t* targets,
                                  int64_t v0, int64_t N, int64_t Vs);

}  // namespace tessera::core::cpu
