#include "train/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"

namespace tessera::train {

namespace {

// Picks the next id from one row of logits (V,).
template <typename T>
int32_t pick(const T* logits, int64_t V, const SampleOptions& o, std::mt19937_64& rng) {
  if (o.temperature <= 0) return static_cast<int32_t>(std::max_element(logits, logits + V) - logits);
  std::vector<int32_t> ids(static_cast<size_t>(V));
  std::iota(ids.begin(), ids.end(), 0);
  int64_t k = o.top_k > 0 ? std::min(o.top_k, V) : V;
  if (k < V) {
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  }
  double max_logit = -INFINITY;
  for (int64_t i = 0; i < k; ++i) max_logit = std::max(max_logit, static_cast<double>(logits[ids[i]]));
  std::vector<double> weights(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    weights[i] = std::exp((static_cast<double>(logits[ids[i]]) - max_logit) / o.temperature);
  }
  std::discrete_distribution<int64_t> dist(weights.begin(), weights.end());
  return ids[static_cast<size_t>(dist(rng))];
}

}  // namespace

std::vector<int32_t> generate(core::Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& options) {
  TESSERA_CHECK(!prompt.empty(), "generation needs a prompt of at least one token");
  const int64_t context = model.config().seq_len, V = model.config().vocab_size;
  const int64_t drawn = options.vocab_limit > 0 ? std::min(options.vocab_limit, V) : V;
  std::vector<int32_t> tokens = prompt, out;
  std::mt19937_64 rng(options.seed);
  for (int64_t n = 0; n < options.max_tokens; ++n) {
    const int64_t T = std::min<int64_t>(static_cast<int64_t>(tokens.size()), context);
    core::Tensor input = core::Tensor::empty({1, T}, core::DType::i32);
    std::copy(tokens.end() - T, tokens.end(), input.data<int32_t>());
    model.forward(input);
    const core::Tensor& logits = model.logits();  // (1, T, V)
    const int32_t next = core::dispatch_float(logits.dtype(), [&]<typename U>() {
      return pick(logits.data<U>() + (T - 1) * V, drawn, options, rng);
    });
    tokens.push_back(next);
    out.push_back(next);
    if (next == options.stop_token) break;
  }
  return out;
}

}  // namespace tessera::train
