#pragma once
// The vocabulary-parallel output of the model: each tensor-parallel rank holds the logits of its
// shard of the vocabulary, columns [v0, v0+Vs) of the full (N,V), computed with its rows of the
// output head (the token embedding when tied).
//
// Cross-entropy runs on the shards: an all-reduce of the row maxima (max), then one all-reduce of
// each row's sum of exponentials and target logit (sum); every rank then has the loss, the same
// on every rank, and computes its shard of the gradient locally. No rank ever holds the full
// logits. Collectives on the tp group, called in the same order on every rank; a group of one
// does not communicate.
#include <cstdint>

#include "core/model/tensor_parallel.h"

namespace tessera::core {

// logits (N,Vs), the shard of the vocabulary starting at v0; targets (N) in [0,V) or
// kIgnoreTarget -> the mean loss over rows with a target; logits becomes this shard of dlogits,
// the gradient of that mean.
template <typename T>
double vocab_parallel_cross_entropy(T* logits, const int32_t* targets, int64_t N, int64_t Vs, int64_t v0,
                                    TpGroup& tp);

// shard (N,Vs) of every rank -> full (N, Vs * tp.size()) on every rank: the logits that
// generation samples from. The shards are summed into a zeroed buffer, which is exact.
template <typename T>
void gather_vocab_shards(T* full, const T* shard, int64_t N, int64_t Vs, int64_t v0, TpGroup& tp);

}  // namespace tessera::core
