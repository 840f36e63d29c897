#include "eval/serving_scorer.h"

#include "core/error.h"

namespace tessera::eval {

ServingScorer::ServingScorer(core::Transformer& model, serve::WeightPrecision weights, size_t max_batch)
    : model_(model),
      cache_(serve::kv_cache_shape(model, 16, serve::default_kv_dtype(weights)),
             static_cast<int64_t>(max_batch) * serve::blocks_for_tokens(model.config().seq_len, 16)),
      forward_(model, cache_, true, weights) {}

std::vector<Score> ServingScorer::score(const std::vector<Request>& requests) {
  const int64_t seq_len = model_.config().seq_len, V = model_.config().vocab_size;
  std::vector<serve::BlockTable> tables(requests.size());
  serve::StepBatch batch;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    check_request(r, seq_len);
    const std::vector<int32_t> inputs(r.tokens.begin(), r.tokens.end() - 1);
    TESSERA_CHECK(cache_.reserve(tables[i], static_cast<int64_t>(inputs.size())),
                  "the scoring cache has no room for {} sequences", requests.size());
    batch.add(tables[i], inputs, 0, true, true);
  }
  const float* logits = forward_.forward(batch).data<float>();  // (sum of L-1, V)
  std::vector<Score> scores(requests.size());
  int64_t row = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    scores[i] = score_targets(logits + row * V, V, requests[i]);
    row += static_cast<int64_t>(requests[i].tokens.size()) - 1;
    cache_.free(tables[i]);
  }
  return scores;
}

}  // namespace tessera::eval
