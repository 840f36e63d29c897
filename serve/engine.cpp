#include "serve/engine.h"

#include <algorithm>

#include "core/error.h"

namespace tessera::serve {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::none: break;
  }
  return "";
}

struct Engine::Live {
  Live(const Request& request, int64_t vocab_limit, const datasets::Tokenizer& tokenizer)
      : params(request.params),
        sampler(request.params, vocab_limit, request.prompt),
        detok(tokenizer, request.params.stop),
        n_prompt(static_cast<int64_t>(request.prompt.size())) {
    if (params.prompt_logprobs) prompt_logprobs.resize(static_cast<size_t>(n_prompt - 1));
  }
  SamplingParams params;
  Sampler sampler;
  Detokenizer detok;
  int64_t n_prompt = 0;
  int64_t generated = 0;
  std::vector<TokenLogprob> prompt_logprobs;  // (n_prompt - 1): token i+1 given tokens 0..i
  bool prompt_logprobs_sent = false;

  // Whether a chunk starting at `start` needs the logits of all its rows (prompt log-probabilities
  // still to collect), not only of its last.
  bool wants_prompt_rows(int64_t start) const {
    return params.prompt_logprobs && !prompt_logprobs_sent && start < n_prompt - 1;
  }
};

namespace {
std::optional<int32_t> end_of_text(const datasets::Tokenizer& tokenizer) {
  const auto id = tokenizer.special_id("<|endoftext|>");
  return id ? std::optional<int32_t>(static_cast<int32_t>(*id)) : std::nullopt;
}

// The budget's blocks, but no more than max_running sequences of the whole context can use.
int64_t cache_blocks(const core::Transformer& model, const EngineOptions& o) {
  const KvCacheShape shape = kv_cache_shape(model, o.block_size, o.kv_cache_dtype());
  const int64_t most = o.scheduler.max_running * blocks_for_tokens(model.config().seq_len, o.block_size);
  return std::min(blocks_for_budget(shape, o.kv_cache_bytes), most);
}
}  // namespace

Engine::Engine(core::Transformer& model, const datasets::Tokenizer& tokenizer, const EngineOptions& options)
    : model_(model),
      tokenizer_(tokenizer),
      eot_(end_of_text(tokenizer)),
      cache_(kv_cache_shape(model, options.block_size, options.kv_cache_dtype()), cache_blocks(model, options)),
      forward_(model, cache_, options.batch_invariant, options.weights),
      scheduler_(options.scheduler, cache_) {}

Engine::~Engine() = default;

int64_t Engine::add(Request request) {
  request.params.validate();
  const ModelConfig& c = model_.config();
  const auto n = static_cast<int64_t>(request.prompt.size());
  TESSERA_CHECK(n >= 1, "the prompt is empty");
  TESSERA_CHECK(n <= c.seq_len, "the prompt has {} tokens, more than the model's context of {}", n, c.seq_len);
  const int64_t vocab = std::min<int64_t>(c.vocab_size, static_cast<int64_t>(tokenizer_.vocab_size()));
  for (int32_t id : request.prompt) {
    TESSERA_CHECK(id >= 0 && id < vocab, "prompt token {} is outside the vocabulary of {}", id, vocab);
  }
  const int64_t id = next_id_++;
  // Tokens that get keys and values: all but the last generated one, at most the context.
  const int64_t max_len = std::min(n + request.params.max_tokens - 1, c.seq_len);
  scheduler_.add(id, request.prompt, std::max<int64_t>(max_len, n));
  live_[id] = std::make_unique<Live>(request, static_cast<int64_t>(tokenizer_.vocab_size()), tokenizer_);
  return id;
}

bool Engine::cancel(int64_t id) {
  if (!live_.erase(id)) return false;
  scheduler_.finish(id);
  return true;
}

void Engine::sample(Live& r, const float* logits, RequestOutput& out) {
  const SampledToken t = r.sampler.sample(logits, model_.config().vocab_size);
  scheduler_.append(out.id, t.id);
  ++r.generated;
  out.tokens.push_back(t.id);
  if (r.params.logprobs >= 0) out.logprobs.push_back(t);
  const bool stop_token = (eot_ && t.id == *eot_ && !r.params.ignore_eos) || std::find(r.params.stop_tokens.begin(), r.params.stop_tokens.end(),
                                                                t.id) != r.params.stop_tokens.end();
  if (!stop_token) out.text += r.detok.push(t.id);
  const auto length = static_cast<int64_t>(scheduler_.sequence(out.id).tokens.size());
  if (stop_token || r.detok.stopped()) {
    out.finish = FinishReason::stop;
  } else if (r.generated >= r.params.max_tokens || length > model_.config().seq_len) {
    out.finish = FinishReason::length;  // the last token sits at position seq_len: it can not be fed
  }
  if (out.finish != FinishReason::none) out.text += r.detok.finish();
}

std::vector<RequestOutput> Engine::step() {
  stats_ = {};
  const StepPlan plan = scheduler_.schedule();
  stats_.preempted = static_cast<int64_t>(plan.preempted.size());
  stats_.shared_tokens = plan.shared_tokens;
  if (plan.empty()) return {};
  batch_.clear();
  std::vector<int64_t> first_logit;  // per chunk: its first row in the logits
  for (const auto& c : plan.chunks) {
    const Live& r = *live_.at(c.seq->id);
    const bool prompt_lp = r.wants_prompt_rows(c.start);
    first_logit.push_back(static_cast<int64_t>(batch_.logit_rows.size()));
    const std::vector<int32_t> ids(c.seq->tokens.begin() + c.start, c.seq->tokens.begin() + c.end);
    batch_.add(c.seq->table, ids, c.start, c.sample, prompt_lp);
    (c.end - c.start == 1 && c.start >= c.seq->n_prompt ? stats_.decode_tokens : stats_.prompt_tokens) += c.end - c.start;
  }
  stats_.running = static_cast<int64_t>(plan.chunks.size());
  const core::Tensor& logits = forward_.forward(batch_);  // (R, V)
  const int64_t V = model_.config().vocab_size;
  const int64_t known = std::min<int64_t>(V, static_cast<int64_t>(tokenizer_.vocab_size()));  // ids it can decode
  scheduler_.computed(plan);

  std::vector<RequestOutput> outputs;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const ScheduledChunk& c = plan.chunks[i];
    Live& r = *live_.at(c.seq->id);
    const float* rows = logits.data<float>() + first_logit[i] * V;
    const bool prompt_lp = r.wants_prompt_rows(c.start);
    if (prompt_lp) {  // row j predicts the token at position c.start + j + 1
      for (int64_t p = c.start; p < std::min(c.end, r.n_prompt - 1); ++p) {
        const std::vector<double> lp = log_softmax(rows + (p - c.start) * V, known);
        const int32_t next = c.seq->tokens[static_cast<size_t>(p + 1)];
        r.prompt_logprobs[static_cast<size_t>(p)] = {next, lp[static_cast<size_t>(next)]};
      }
    }
    if (!c.sample) continue;
    RequestOutput out;
    out.id = c.seq->id;
    if (r.params.prompt_logprobs && !r.prompt_logprobs_sent) {
      out.prompt_logprobs = r.prompt_logprobs;
      r.prompt_logprobs_sent = true;
    }
    const float* last = prompt_lp ? rows + (c.end - 1 - c.start) * V : rows;
    sample(r, last, out);
    if (out.finish != FinishReason::none) {
      scheduler_.finish(out.id);
      live_.erase(out.id);
    }
    outputs.push_back(std::move(out));
  }
  return outputs;
}

std::vector<Completion> Engine::generate(std::vector<Request> requests) {
  std::map<int64_t, size_t> index;  // engine id -> position in requests
  for (size_t i = 0; i < requests.size(); ++i) index[add(std::move(requests[i]))] = i;
  std::vector<Completion> done(requests.size());
  size_t remaining = requests.size();
  while (remaining > 0) {
    TESSERA_CHECK(!idle(), "the engine went idle with {} requests unfinished", remaining);
    for (RequestOutput& o : step()) {
      auto it = index.find(o.id);
      if (it == index.end()) continue;  // a request queued before this call
      Completion& c = done[it->second];
      c.tokens.insert(c.tokens.end(), o.tokens.begin(), o.tokens.end());
      c.text += o.text;
      c.logprobs.insert(c.logprobs.end(), o.logprobs.begin(), o.logprobs.end());
      if (!o.prompt_logprobs.empty()) c.prompt_logprobs = std::move(o.prompt_logprobs);
      if (o.finish != FinishReason::none) {
        c.finish = o.finish;
        --remaining;
      }
    }
  }
  return done;
}

}  // namespace tessera::serve
