#include "eval/likelihood.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tessera::eval {

double log_prob(const float* logits, int64_t vocab, int32_t target) {
  double max = logits[0];
  for (int64_t v = 1; v < vocab; ++v) max = std::max(max, static_cast<double>(logits[v]));
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(logits[v]) - max);
  return static_cast<double>(logits[target]) - max - std::log(sum);
}

void check_request(const Request& r, int64_t seq_len) {
  TESSERA_CHECK(r.tokens.size() >= 2 && static_cast<int64_t>(r.tokens.size()) <= seq_len + 1,
                "a scored sequence has {} tokens; it needs 2 to seq_len + 1 = {}", r.tokens.size(), seq_len + 1);
  TESSERA_CHECK(r.scored >= 1 && r.scored < r.tokens.size(), "a sequence of {} tokens cannot score {} targets",
                r.tokens.size(), r.scored);
}

Score score_targets(const float* logits, int64_t vocab, const Request& r) {
  const auto L = static_cast<int64_t>(r.tokens.size());
  Score s;
  s.greedy = true;
  for (int64_t t = L - 1 - static_cast<int64_t>(r.scored); t < L - 1; ++t) {
    const float* row = logits + t * vocab;  // (V,): predicts tokens[t + 1]
    const int32_t target = r.tokens[static_cast<size_t>(t + 1)];
    s.log_likelihood += log_prob(row, vocab, target);
    s.greedy = s.greedy && std::max_element(row, row + vocab) - row == target;
  }
  return s;
}

std::vector<Score> score(core::Transformer& model, const std::vector<Request>& requests, bool batch_invariant) {
  if (requests.empty()) return {};
  const int64_t seq_len = model.config().seq_len, V = model.config().vocab_size;
  size_t longest = 0;
  for (const Request& r : requests) {
    check_request(r, seq_len);
    longest = std::max(longest, r.tokens.size());
  }
  const auto B = static_cast<int64_t>(requests.size()), T = static_cast<int64_t>(longest) - 1;
  core::Tensor inputs = core::Tensor::zeros({B, T}, core::DType::i32);  // (B, T), padded with id 0
  for (int64_t b = 0; b < B; ++b) {
    const auto& tokens = requests[static_cast<size_t>(b)].tokens;
    std::copy(tokens.begin(), tokens.end() - 1, inputs.data<int32_t>() + b * T);
  }
  core::ForwardOptions options;
  options.batch_invariant = batch_invariant;
  model.forward(inputs, core::Tensor(), options);
  const float* logits = model.logits().data<float>();  // (B, T, V)
  std::vector<Score> scores(requests.size());
  for (int64_t b = 0; b < B; ++b) scores[static_cast<size_t>(b)] = score_targets(logits + b * T * V, V, requests[static_cast<size_t>(b)]);
  return scores;
}

}  // namespace tessera::eval
