#include "eval/generation.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "run/progress.h"
#include "eval/stats.h"
#include "eval/text_match.h"
#include "serve/engine.h"

namespace tessera::eval {

namespace {

serve::Request make_request(const GenItem& item, const datasets::Tokenizer& tokenizer, int64_t seq_len,
                            int64_t default_max_tokens) {
  serve::Request r;
  for (const datasets::TokenId id : tokenizer.encode(item.prompt)) r.prompt.push_back(static_cast<int32_t>(id));
  if (r.prompt.empty()) r.prompt.push_back(static_cast<int32_t>(tokenizer.eot_id()));
  const auto keep = static_cast<size_t>(std::max<int64_t>(1, seq_len - 1));
  if (r.prompt.size() > keep) r.prompt.erase(r.prompt.begin(), r.prompt.end() - static_cast<std::ptrdiff_t>(keep));
  r.params.temperature = 0.0;
  r.params.max_tokens = item.max_tokens > 0 ? item.max_tokens : default_max_tokens;
  r.params.stop = item.stop;
  return r;
}

// Every rank's strings, where each entry was filled by exactly one dp rank (empty elsewhere),
// made whole on every rank: lengths, then bytes, by sum all-reduces (one contributor each: exact).
void share_strings(parallel::Communicator& dp, std::vector<std::string>& values) {
  if (dp.size() == 1 || values.empty()) return;
  std::vector<int32_t> lengths(values.size());
  for (size_t i = 0; i < values.size(); ++i) lengths[i] = static_cast<int32_t>(values[i].size());
  dp.all_reduce(lengths.data(), lengths.size(), core::DType::i32, parallel::ReduceOp::sum)->wait();
  std::vector<int32_t> bytes;  // every string's bytes in order, as i32
  std::vector<size_t> offset(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    offset[i] = bytes.size();
    bytes.resize(bytes.size() + static_cast<size_t>(lengths[i]), 0);
    for (size_t b = 0; b < values[i].size(); ++b) bytes[offset[i] + b] = static_cast<unsigned char>(values[i][b]);
  }
  if (!bytes.empty()) dp.all_reduce(bytes.data(), bytes.size(), core::DType::i32, parallel::ReduceOp::sum)->wait();
  for (size_t i = 0; i < values.size(); ++i) {
    values[i].resize(static_cast<size_t>(lengths[i]));
    for (size_t b = 0; b < values[i].size(); ++b) values[i][b] = static_cast<char>(bytes[offset[i] + b]);
  }
}

}  // namespace

GenResult summarize_generation(const std::vector<GenItem>& items, std::vector<GenItemResult> outputs) {
  GenResult r;
  r.n = items.size();
  std::vector<double> f1;
  double right = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    GenItemResult& o = outputs[i];
    o.prompt = items[i].prompt;
    o.references = items[i].references;
    o.exact_match = exact_match(o.output, items[i].references);
    o.f1 = token_f1(o.output, items[i].references);
    right += o.exact_match;
    f1.push_back(o.f1);
  }
  r.items = std::move(outputs);
  if (r.n == 0) return r;
  const auto n = static_cast<double>(r.n);
  r.exact_match = right / n;
  r.exact_match_stderr = proportion_stderr(r.exact_match, n);
  double sum = 0;
  for (const double v : f1) sum += v;
  r.f1 = sum / n;
  r.f1_stderr = mean_stderr(f1);
  return r;
}

GenResult run_generation(core::Transformer& model, parallel::Communicator& dp, const datasets::Tokenizer& tokenizer,
                         const GenTask& task, const GenOptions& options) {
  TESSERA_CHECK(options.batch_size > 0, "the evaluation batch size must be positive");
  std::vector<GenItem> items = task.items;
  if (options.max_items > 0 && items.size() > options.max_items) items.resize(options.max_items);
  const size_t count = items.size();
  std::optional<Progress> progress;
  if (options.progress) progress.emplace(task.name, static_cast<double>(count), "req");
  const auto ranks = static_cast<size_t>(dp.size()), rank = static_cast<size_t>(dp.rank());
  std::vector<std::string> texts(count), finish(count);
  std::vector<int32_t> tokens(count, 0);
  const size_t chunks = (count + options.batch_size - 1) / options.batch_size;
  for (size_t chunk = rank; chunk < chunks; chunk += ranks) {
    const size_t begin = chunk * options.batch_size, end = std::min(count, begin + options.batch_size);
    std::vector<serve::Request> batch;
    for (size_t i = begin; i < end; ++i) {
      batch.push_back(make_request(items[i], tokenizer, model.config().seq_len, options.max_tokens));
    }
    serve::EngineOptions engine_options;
    engine_options.batch_invariant = options.batch_invariant;
    serve::Engine engine(model, tokenizer, engine_options);
    const std::vector<serve::Completion> done = engine.generate(std::move(batch));
    for (size_t i = begin; i < end; ++i) {
      texts[i] = done[i - begin].text;
      finish[i] = serve::finish_reason_name(done[i - begin].finish);
      tokens[i] = static_cast<int32_t>(done[i - begin].tokens.size());
    }
    if (progress) progress->update(static_cast<double>(std::min(count, (chunk + ranks) * options.batch_size)));
  }
  if (progress) progress->finish();
  share_strings(dp, texts);
  share_strings(dp, finish);
  if (ranks > 1 && count > 0) dp.all_reduce(tokens.data(), count, core::DType::i32, parallel::ReduceOp::sum)->wait();
  std::vector<GenItemResult> outputs(count);
  for (size_t i = 0; i < count; ++i) outputs[i] = {{}, {}, texts[i], finish[i], tokens[i], 0, 0};
  return summarize_generation(items, std::move(outputs));
}

}  // namespace tessera::eval
