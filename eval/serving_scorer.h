#pragma once
// Scoring through the serving engine's inference forward (serve/forward.h) instead of the
// training forward: what `tessera eval --weights bf16|int8` measures, the log-likelihoods the
// served model gives with its weights converted once (serve/projection.h). The forward is
// batch-invariant in every precision, so results do not depend on how requests are batched.
// Every rank of the model's tensor-parallel group calls score() together with the same requests.
#include <vector>

#include "core/model/transformer.h"
#include "eval/likelihood.h"
#include "serve/forward.h"

namespace tessera::eval {

class ServingScorer {
 public:
  // Converts the model's projections to `weights` once; room for max_batch sequences of seq_len.
  ServingScorer(core::Transformer& model, serve::WeightPrecision weights, size_t max_batch);

  // As eval::score: each request's first L-1 tokens prefilled in one step, all their logits.
  std::vector<Score> score(const std::vector<Request>& requests);

 private:
  core::Transformer& model_;
  serve::KvCache cache_;
  serve::InferenceForward forward_;
};

}  // namespace tessera::eval
