#pragma once
// Log-likelihood of token sequences under a model: the building block of perplexity and of
// multiple-choice scoring. A request is a sequence of L tokens (2 <= L <= seq_len + 1); the model
// reads its first L-1 tokens and the last `scored` of its L-1 targets (tokens 1..L-1) count.
// Log-softmax runs in double over the model's whole vocabulary.
//
// The forward pass is batch-invariant (core::ForwardOptions), so a request's result is bitwise
// the same whatever else is in its batch and however batches are cut: the property that makes
// evaluation results independent of the rank count. Every rank of the model's tensor-parallel
// group must call score() together with the same requests (the forward runs tp collectives).
#include <cstdint>
#include <vector>

#include "core/model/transformer.h"

namespace tessera::eval {

struct Request {
  std::vector<int32_t> tokens;  // (L,)
  size_t scored = 0;            // targets counted, the last ones; 1 <= scored <= L-1
};

struct Score {
  double log_likelihood = 0;  // sum of log p(target) over the scored targets (nats, <= 0)
  bool greedy = false;        // every scored target is the model's argmax
};

// Scores `requests` in one forward of a (B, Lmax-1) batch, shorter requests padded on the right
// (causal attention: padding never reaches earlier positions). batch_invariant = false takes the
// faster BLAS path, whose rounding may depend on the batch and the thread count.
std::vector<Score> score(core::Transformer& model, const std::vector<Request>& requests, bool batch_invariant = true);

// The log-softmax of one position's logits at `target`, in double: logits (V,).
double log_prob(const float* logits, int64_t vocab, int32_t target);

// Throws unless 2 <= L <= seq_len + 1 and 1 <= scored <= L-1.
void check_request(const Request& r, int64_t seq_len);
// The score of r from the logits of its input positions: logits (L-1, vocab), row t predicts
// tokens[t+1].
Score score_targets(const float* logits, int64_t vocab, const Request& r);

}  // namespace tessera::eval
