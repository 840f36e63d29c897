#pragma once
// The serving engine: requests (token ids and sampling parameters) in, text and tokens out, with
// continuous batching. Each step(): the scheduler plans the step (serve/scheduler.h), the inference
// forward runs every planned token in one packed batch over the paged KV cache
// (serve/forward.h), each sequence that reached its last token samples its next one
// (serve/sampling.h), and its text grows through its detokeniser (serve/detokenizer.h).
// Requests may be added between any two steps; finished ones leave at once.
//
// A request ends with "stop" (one of its stop tokens, the tokenizer's end-of-text token, or a
// stop string) or "length" (max_tokens generated, or the model's context is full).
//
// Tensor parallelism: the engine is deterministic (FCFS scheduling, per-request seeded sampling,
// logits identical on every rank), so every rank of the model's group runs the same engine with
// the same requests in the same order and takes the same decisions; the forward's collectives
// then line up with no extra messages.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "serve/detokenizer.h"
#include "serve/forward.h"
#include "serve/kv_cache.h"
#include "serve/sampling.h"
#include "serve/scheduler.h"

namespace tessera::serve {

struct EngineOptions {
  // The KV cache's memory budget; the cache never takes more than max_running sequences of the
  // model's whole context can use.
  int64_t kv_cache_bytes = int64_t{256} << 20;
  int64_t block_size = 16;                      // tokens per KV cache block
  // Batch-invariant projections (serve/forward.h): a request's logits, bit for bit, and so its
  // greedy output do not depend on the batch. Off: BLAS projections, faster at batch sizes of 4
  // and more (docs/benchmarks.md), outputs may differ in the last bits with the batch.
  bool batch_invariant = true;
  // The projections' weights (serve/projection.h): f32 (the parameters themselves), or a bf16 or
  // int8 copy made when the engine is built. Every precision is batch-invariant.
  WeightPrecision weights = WeightPrecision::f32;
  // The KV cache's element type (serve/kv_cache.h); unset: default_kv_dtype(weights).
  std::optional<core::DType> kv_dtype = std::nullopt;
  SchedulerConfig scheduler = {};
  core::DType kv_cache_dtype() const { return kv_dtype.value_or(default_kv_dtype(weights)); }
};

struct Request {
  std::vector<int32_t> prompt;  // token ids, at least one
  SamplingParams params;
};

enum class FinishReason { none, stop, length };
const char* finish_reason_name(FinishReason r);  // "", "stop", "length"

// What one step produced for one request.
struct RequestOutput {
  int64_t id = 0;
  std::vector<int32_t> tokens;            // new tokens (stop tokens included)
  std::string text;                       // new text
  std::vector<SampledToken> logprobs;     // per new token, when the request asked for them
  std::vector<TokenLogprob> prompt_logprobs;  // once, with the first output, when asked: tokens 1..n-1
  FinishReason finish = FinishReason::none;
};

// A request run to the end.
struct Completion {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<SampledToken> logprobs;
  std::vector<TokenLogprob> prompt_logprobs;
  FinishReason finish = FinishReason::none;
};

struct StepStats {
  int64_t prompt_tokens = 0;  // tokens of prompts (or recomputed sequences) computed
  int64_t decode_tokens = 0;  // single-token decode rows
  int64_t running = 0;        // sequences in the step
  int64_t preempted = 0;
  int64_t shared_tokens = 0;  // prompt tokens taken from cached blocks of a common prefix
};

class Engine {
 public:
  // model (f32) and tokenizer outlive the engine.
  Engine(core::Transformer& model, const datasets::Tokenizer& tokenizer, const EngineOptions& options = {});
  ~Engine();

  // Queues a request; returns its id. Throws tessera::Error for bad parameters, ids outside the
  // model's vocabulary, or a prompt longer than the model's context.
  int64_t add(Request request);
  // Drops a queued or running request at once (a client went away, a timeout): its slot and KV
  // blocks are freed and it yields no more output. False when the id is not live (finished).
  bool cancel(int64_t id);
  // One engine step: the outputs of every request that produced something.
  std::vector<RequestOutput> step();
  bool idle() const { return scheduler_.idle(); }
  size_t n_running() const { return scheduler_.n_running(); }
  size_t n_waiting() const { return scheduler_.n_waiting(); }
  const StepStats& last_step() const { return stats_; }

  // Runs the requests (beside any already queued) to the end; completions in request order.
  std::vector<Completion> generate(std::vector<Request> requests);

  const KvCache& cache() const { return cache_; }
  const InferenceForward& inference() const { return forward_; }

 private:
  struct Live;  // per request: its parameters, sampler, detokeniser, progress
  // Samples the next token of a request from its logits row and updates its output.
  void sample(Live& r, const float* logits, RequestOutput& out);

  core::Transformer& model_;
  const datasets::Tokenizer& tokenizer_;
  std::optional<int32_t> eot_;
  KvCache cache_;
  InferenceForward forward_;
  Scheduler scheduler_;
  std::map<int64_t, std::unique_ptr<Live>> live_;
  int64_t next_id_ = 0;
  StepBatch batch_;
  StepStats stats_;
};

}  // namespace tessera::serve
