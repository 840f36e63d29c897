#pragma once
// Scoring many requests over the data-parallel ranks with results identical at any rank count:
// requests are cut into chunks of `batch_size` in request order, chunk k is scored by dp rank
// k % dp, and every rank fills its own chunks' entries of the full result arrays (zeros
// elsewhere); one sum all-reduce over dp then gives every rank every result exactly (adding
// zeros is exact), in request order. Collective on the dp communicator and, through the model,
// its tp group: every rank calls score_all in the same order with the same count.
#include <cstddef>
#include <functional>

#include "run/progress.h"
#include "eval/likelihood.h"
#include "parallel/communicator.h"

namespace tessera::eval {

using MakeRequest = std::function<Request(size_t index)>;
// Scores one batch of requests (eval::score on the training forward, or a ServingScorer).
using ScoreBatch = std::function<std::vector<Score>(const std::vector<Request>& batch)>;

// The scores of requests 0..count-1, on every rank. progress (may be null) advances by requests.
// batch_invariant: see score(); false gives up the identity across rank counts for speed.
std::vector<Score> score_all(core::Transformer& model, parallel::Communicator& dp, size_t count,
                             const MakeRequest& make, size_t batch_size, Progress* progress = nullptr,
                             bool batch_invariant = true);
// The same with any scorer of batches.
std::vector<Score> score_all(const ScoreBatch& score_batch, parallel::Communicator& dp, size_t count,
                             const MakeRequest& make, size_t batch_size, Progress* progress = nullptr);

}  // namespace tessera::eval
