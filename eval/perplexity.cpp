#include "eval/perplexity.h"

#include <cmath>
#include <numbers>
#include <optional>

#include "core/error.h"
#include "datasets/loader.h"
#include "eval/serving_scorer.h"
#include "eval/sharded.h"
#include "eval/stats.h"

namespace tessera::eval {

PerplexityResult summarize(const std::vector<WindowScore>& windows) {
  PerplexityResult r;
  r.windows = windows.size();
  double nll = 0, sum_of_means = 0;
  for (const WindowScore& w : windows) {
    nll += w.nll;
    r.tokens += w.tokens;
    r.bytes += w.bytes;
    r.window_loss.push_back(w.nll / w.tokens);
    sum_of_means += r.window_loss.back();
  }
  if (r.tokens == 0) return r;
  r.mean_loss = nll / r.tokens;
  r.mean_loss_stderr = mean_stderr(r.window_loss);
  r.perplexity = std::exp(r.mean_loss);
  r.perplexity_stderr = r.perplexity * r.mean_loss_stderr;
  const double bpb_per_nat = r.bytes > 0 ? r.tokens / (std::numbers::ln2 * r.bytes) : 0.0;
  if (r.bytes > 0) {
    r.bits_per_byte = nll / (std::numbers::ln2 * r.bytes);
    r.bits_per_byte_stderr = r.mean_loss_stderr * bpb_per_nat;
  }
  const double centre = sum_of_means / static_cast<double>(r.windows);
  for (double l : r.window_loss) {
    r.window_perplexity.push_back(r.perplexity + r.perplexity * (l - centre));
    r.window_bits_per_byte.push_back(r.bits_per_byte + bpb_per_nat * (l - centre));
  }
  return r;
}

std::vector<double> token_byte_counts(const datasets::Tokenizer& tokenizer, int64_t vocab) {
  std::vector<double> bytes(static_cast<size_t>(vocab), 0.0);
  const size_t known = std::min(tokenizer.vocab_size(), bytes.size());
  for (size_t id = 0; id < known; ++id) bytes[id] = static_cast<double>(tokenizer.token_bytes(static_cast<datasets::TokenId>(id)).size());
  for (const datasets::TokenId id : tokenizer.parts().specials) {
    if (id < bytes.size()) bytes[id] = 0.0;
  }
  return bytes;
}

PerplexityResult perplexity(core::Transformer& model, parallel::Communicator& dp, const std::vector<std::string>& shards,
                            const std::vector<double>& token_bytes, const PerplexityOptions& options) {
  TESSERA_CHECK(!shards.empty(), "no validation shards to score");
  datasets::LoaderOptions lo;
  lo.seq_len = static_cast<size_t>(model.config().seq_len);
  lo.shuffle = false;
  datasets::Loader loader(shards, lo);  // one window per batch, in stream order
  size_t count = loader.num_windows();
  TESSERA_CHECK(count > 0, "the validation shards hold {} tokens, fewer than one window of seq_len + 1 = {}",
                loader.num_tokens(), lo.seq_len + 1);
  if (options.max_windows > 0) count = std::min(count, options.max_windows);
  std::optional<Progress> progress;
  if (options.progress) progress.emplace("perplexity", static_cast<double>(count), "windows");
  const MakeRequest make = [&](size_t w) {
    loader.restore({0, w});
    const datasets::Batch batch = loader.next();
    Request r;
    r.tokens.assign(batch.inputs.begin(), batch.inputs.end());  // (T+1,): inputs, then the last target
    r.tokens.push_back(batch.targets.back());
    r.scored = batch.targets.size();
    return r;
  };
  Progress* shown = progress ? &*progress : nullptr;
  std::optional<ServingScorer> serving;
  if (options.weights != serve::WeightPrecision::f32) serving.emplace(model, options.weights, options.batch_size);
  const std::vector<Score> scores =
      serving ? score_all([&](const std::vector<Request>& b) { return serving->score(b); }, dp, count, make,
                          options.batch_size, shown)
              : score_all(model, dp, count, make, options.batch_size, shown, options.batch_invariant);
  std::vector<WindowScore> windows(count);
  for (size_t w = 0; w < count; ++w) {
    const Request r = make(w);
    windows[w].nll = -scores[w].log_likelihood;
    windows[w].tokens = static_cast<double>(r.scored);
    for (size_t t = 1; t < r.tokens.size(); ++t) {
      const auto id = static_cast<size_t>(r.tokens[t]);
      TESSERA_CHECK(id < token_bytes.size(), "token id {} is outside the model's vocabulary of {}", id, token_bytes.size());
      windows[w].bytes += token_bytes[id];
    }
  }
  if (progress) progress->finish();
  return summarize(windows);
}

}  // namespace tessera::eval
