#pragma once
// The continuous-batching scheduler: a policy object that decides, before each engine step, which
// sequences run and which of their tokens are computed. It knows nothing of the model: it sees
// token counts and the KV cache's blocks, so it is tested on its own.
//
// Policy (vLLM's, with chunked prefill):
//   - Requests join the waiting queue at any time and are admitted between steps, first come first
//     served; finished sequences leave at once (finish()) and free their blocks.
//   - Each step has a token budget. Running sequences that decode (one token) come first, so a
//     long prompt never stalls them; then running sequences still in their prompt; then waiting
//     ones. A prompt longer than what is left of the budget is computed in chunks over several
//     steps (chunked prefill).
//   - When a running sequence needs a block and none is free, the most recently admitted running
//     sequence is preempted: its blocks are freed and it returns to the front of the waiting queue
//     to be recomputed later from its tokens (prompt and the tokens generated so far). A step that
//     preempted admits no waiting sequence.
//   - Prefix sharing: a sequence admitted with an empty block table first takes the cached full
//     blocks of its longest prefix that other sequences computed (KvCache::share_prefix), leaving
//     at least its last token to compute; computed full blocks are indexed after each step.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "serve/kv_cache.h"

namespace tessera::serve {

struct SchedulerConfig {
  int64_t max_step_tokens = 256;  // token budget of one step (prefill chunks and decodes together)
  int64_t max_running = 64;       // sequences in one step
  bool prefix_sharing = true;     // admitted sequences take cached blocks of a common prefix
};

// The scheduler's view of one request.
struct Sequence {
  int64_t id = 0;
  std::vector<int32_t> tokens;  // the prompt, then the generated tokens
  int64_t n_prompt = 0;
  int64_t max_len = 0;          // tokens it may reach (prompt + max new tokens), for admission
  BlockTable table;             // table.n_cached tokens have their keys and values in the cache
  int64_t preemptions = 0;
};

// Tokens [start, end) of a sequence computed in this step; sample: end is its last token, so the
// step yields its next token.
struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t start = 0, end = 0;
  bool sample = false;
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;  // decodes first, then prefill chunks
  std::vector<int64_t> preempted;      // ids preempted while planning this step
  int64_t shared_tokens = 0;           // tokens admitted sequences took from shared cached blocks
  int64_t tokens() const;
  bool empty() const { return chunks.empty(); }
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvCache& cache);

  // A new request waits to be admitted. Throws tessera::Error when max_len tokens could never fit
  // the cache (or prompt is empty, or the id is in use).
  void add(int64_t id, std::vector<int32_t> prompt, int64_t max_len);
  // The next step's plan; blocks for its tokens are reserved.
  StepPlan schedule();
  // The plan ran: its chunks' tokens are cached.
  void computed(const StepPlan& plan);
  // A sampled token joins a sequence.
  void append(int64_t id, int32_t token);
  // The sequence is done (or cancelled): its blocks are freed and it leaves.
  void finish(int64_t id);

  const Sequence& sequence(int64_t id) const;
  size_t n_waiting() const { return waiting_.size(); }
  size_t n_running() const { return running_.size(); }
  bool idle() const { return waiting_.empty() && running_.empty(); }
  const KvCache& cache() const { return cache_; }

 private:
  // Frees the blocks of the most recently admitted running sequence and moves it to the front of
  // the waiting queue; returns its id.
  int64_t preempt_last();

  SchedulerConfig config_;
  KvCache& cache_;
  std::map<int64_t, std::unique_ptr<Sequence>> seqs_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // in admission order
};

}  // namespace tessera::serve
