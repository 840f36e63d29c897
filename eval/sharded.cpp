#include "eval/sharded.h"

#include <algorithm>

#include "core/error.h"

namespace tessera::eval {

std::vector<Score> score_all(core::Transformer& model, parallel::Communicator& dp, size_t count,
                             const MakeRequest& make, size_t batch_size, Progress* progress,
                             bool batch_invariant) {
  return score_all([&](const std::vector<Request>& batch) { return score(model, batch, batch_invariant); }, dp, count,
                   make, batch_size, progress);
}

std::vector<Score> score_all(const ScoreBatch& score_batch, parallel::Communicator& dp, size_t count,
                             const MakeRequest& make, size_t batch_size, Progress* progress) {
  TESSERA_CHECK(batch_size > 0, "the evaluation batch size must be positive");
  const auto ranks = static_cast<size_t>(dp.size()), rank = static_cast<size_t>(dp.rank());
  std::vector<double> values(2 * count, 0.0);  // (count, 2): log-likelihood, greedy
  const size_t chunks = (count + batch_size - 1) / batch_size;
  for (size_t chunk = rank; chunk < chunks; chunk += ranks) {
    const size_t begin = chunk * batch_size, end = std::min(count, begin + batch_size);
    std::vector<Request> batch;
    for (size_t i = begin; i < end; ++i) batch.push_back(make(i));
    const std::vector<Score> scores = score_batch(batch);
    for (size_t i = begin; i < end; ++i) {
      values[2 * i] = scores[i - begin].log_likelihood;
      values[2 * i + 1] = scores[i - begin].greedy ? 1.0 : 0.0;
    }
    // The ranks score chunks in step, so the root counts its peers' chunks of this round too.
    if (progress) progress->update(static_cast<double>(std::min(count, (chunk + ranks) * batch_size)));
  }
  if (ranks > 1 && count > 0) dp.all_reduce(values.data(), values.size(), core::DType::f64, parallel::ReduceOp::sum)->wait();
  std::vector<Score> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = {values[2 * i], values[2 * i + 1] != 0.0};
  return out;
}

}  // namespace tessera::eval
