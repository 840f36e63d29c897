#include "eval/multiple_choice.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "eval/sharded.h"
#include "eval/stats.h"

namespace tessera::eval {

namespace {

size_t argmax(const std::vector<double>& values) {
  return static_cast<size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

}  // namespace

McResult summarize(const std::vector<McItem>& items, std::vector<std::vector<double>> log_likelihoods) {
  McResult r;
  r.n = items.size();
  double right = 0, right_norm = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    ItemResult item;
    item.label = items[i].label;
    item.log_likelihoods = std::move(log_likelihoods[i]);
    std::vector<double> normalised;
    for (size_t c = 0; c < item.log_likelihoods.size(); ++c) {
      normalised.push_back(item.log_likelihoods[c] / static_cast<double>(items[i].choices[c].size()));
    }
    item.prediction = argmax(item.log_likelihoods);
    item.prediction_norm = argmax(normalised);
    right += item.prediction == item.label ? 1 : 0;
    right_norm += item.prediction_norm == item.label ? 1 : 0;
    r.items.push_back(std::move(item));
  }
  if (r.n == 0) return r;
  const auto n = static_cast<double>(r.n);
  r.acc = right / n;
  r.acc_norm = right_norm / n;
  r.acc_stderr = proportion_stderr(r.acc, n);
  r.acc_norm_stderr = proportion_stderr(r.acc_norm, n);
  return r;
}

Request choice_request(const McItem& item, size_t choice, const datasets::Tokenizer& tokenizer, int64_t seq_len) {
  Request r;
  for (const datasets::TokenId id : tokenizer.encode(item.context)) r.tokens.push_back(static_cast<int32_t>(id));
  if (r.tokens.empty()) r.tokens.push_back(static_cast<int32_t>(tokenizer.eot_id()));
  const std::vector<datasets::TokenId> continuation = tokenizer.encode(item.choices[choice]);
  TESSERA_CHECK(!continuation.empty(), "choice {} encodes to no token", choice);
  for (const datasets::TokenId id : continuation) r.tokens.push_back(static_cast<int32_t>(id));
  const auto keep = static_cast<size_t>(seq_len) + 1;
  if (r.tokens.size() > keep) r.tokens.erase(r.tokens.begin(), r.tokens.end() - static_cast<std::ptrdiff_t>(keep));
  r.scored = std::min(continuation.size(), r.tokens.size() - 1);
  return r;
}

McResult score_task(core::Transformer& model, parallel::Communicator& dp, const datasets::Tokenizer& tokenizer,
                    const McTask& task, const McOptions& options) {
  std::vector<McItem> items = task.items;
  if (options.max_items > 0 && items.size() > options.max_items) items.resize(options.max_items);
  std::vector<std::pair<size_t, size_t>> requests;  // (item, choice), in item order
  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t c = 0; c < items[i].choices.size(); ++c) requests.emplace_back(i, c);
  }
  std::optional<Progress> progress;
  if (options.progress) progress.emplace(task.name, static_cast<double>(requests.size()), "seq");
  const MakeRequest make = [&](size_t k) {
    return choice_request(items[requests[k].first], requests[k].second, tokenizer, model.config().seq_len);
  };
  const std::vector<Score> scores =
      score_all(model, dp, requests.size(), make, options.batch_size, progress ? &*progress : nullptr,
                options.batch_invariant);
  if (progress) progress->finish();
  std::vector<std::vector<double>> log_likelihoods(items.size());
  for (size_t k = 0; k < requests.size(); ++k) log_likelihoods[requests[k].first].push_back(scores[k].log_likelihood);
  return summarize(items, std::move(log_likelihoods));
}

}  // namespace tessera::eval
