#include "serve/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace tessera::serve {

int64_t StepPlan::tokens() const {
  int64_t n = 0;
  for (const auto& c : chunks) n += c.end - c.start;
  return n;
}

Scheduler::Scheduler(const SchedulerConfig& config, KvCache& cache) : config_(config), cache_(cache) {
  TESSERA_CHECK(config.max_step_tokens >= 1, "the step token budget must be >= 1, got {}", config.max_step_tokens);
  TESSERA_CHECK(config.max_running >= 1, "at least one running sequence per step, got {}", config.max_running);
}

void Scheduler::add(int64_t id, std::vector<int32_t> prompt, int64_t max_len) {
  TESSERA_CHECK(!prompt.empty(), "request {} has an empty prompt", id);
  TESSERA_CHECK(!seqs_.count(id), "request id {} is already in use", id);
  const int64_t need = blocks_for_tokens(max_len, cache_.shape().block_size);
  TESSERA_CHECK(need <= cache_.n_blocks(),
                "request {} may reach {} tokens, which need {} KV cache blocks; the cache has {} (raise the KV "
                "cache budget)", id, max_len, need, cache_.n_blocks());
  auto seq = std::make_unique<Sequence>();
  seq->id = id;
  seq->n_prompt = static_cast<int64_t>(prompt.size());
  seq->tokens = std::move(prompt);
  seq->max_len = max_len;
  waiting_.push_back(seq.get());
  seqs_[id] = std::move(seq);
}

int64_t Scheduler::preempt_last() {
  Sequence* s = running_.back();
  running_.pop_back();
  cache_.free(s->table);
  ++s->preemptions;
  waiting_.push_front(s);
  return s->id;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int64_t budget = config_.max_step_tokens;
  // Running sequences: decodes (one token to compute) before prompts still being prefilled.
  std::vector<Sequence*> order = running_;
  std::stable_partition(order.begin(), order.end(), [](const Sequence* s) {
    return static_cast<int64_t>(s->tokens.size()) - s->table.n_cached == 1;
  });
  for (Sequence* s : order) {
    if (budget == 0) break;
    if (std::find(running_.begin(), running_.end(), s) == running_.end()) continue;  // preempted meanwhile
    const int64_t total = static_cast<int64_t>(s->tokens.size());
    const int64_t n = std::min(total - s->table.n_cached, budget);
    while (!cache_.reserve(s->table, s->table.n_cached + n)) {
      const int64_t victim = preempt_last();
      plan.preempted.push_back(victim);
      std::erase_if(plan.chunks, [&](const ScheduledChunk& c) { return c.seq->id == victim; });
      if (victim == s->id) break;
    }
    if (!plan.preempted.empty() && plan.preempted.back() == s->id) continue;
    plan.chunks.push_back({s, s->table.n_cached, s->table.n_cached + n, s->table.n_cached + n == total});
    budget -= n;
  }
  // Chunks removed by a later preemption gave their budget back; recount.
  budget = config_.max_step_tokens - plan.tokens();
  // Waiting sequences, first come first served, while budget and blocks last (never by preempting).
  while (plan.preempted.empty() && budget > 0 && !waiting_.empty() &&
         static_cast<int64_t>(running_.size()) < config_.max_running) {
    Sequence* s = waiting_.front();
    const int64_t total = static_cast<int64_t>(s->tokens.size());
    const int64_t shared =
        config_.prefix_sharing && s->table.blocks.empty() ? cache_.share_prefix(s->table, s->tokens, total - 1) : 0;
    const int64_t n = std::min(total - s->table.n_cached, budget);
    if (!cache_.reserve(s->table, s->table.n_cached + n)) {
      cache_.free(s->table);  // give the shared blocks back: it waits with an empty table
      break;
    }
    plan.shared_tokens += shared;
    waiting_.pop_front();
    running_.push_back(s);
    plan.chunks.push_back({s, s->table.n_cached, s->table.n_cached + n, s->table.n_cached + n == total});
    budget -= n;
  }
  return plan;
}

void Scheduler::computed(const StepPlan& plan) {
  for (const auto& c : plan.chunks) {
    c.seq->table.n_cached = c.end;
    if (config_.prefix_sharing) cache_.index_full_blocks(c.seq->table, c.seq->tokens);
  }
}

void Scheduler::append(int64_t id, int32_t token) {
  auto it = seqs_.find(id);
  TESSERA_CHECK(it != seqs_.end(), "no sequence {}", id);
  it->second->tokens.push_back(token);
}

void Scheduler::finish(int64_t id) {
  auto it = seqs_.find(id);
  TESSERA_CHECK(it != seqs_.end(), "no sequence {}", id);
  Sequence* s = it->second.get();
  cache_.free(s->table);
  std::erase(running_, s);
  std::erase(waiting_, s);
  seqs_.erase(it);
}

const Sequence& Scheduler::sequence(int64_t id) const {
  auto it = seqs_.find(id);
  TESSERA_CHECK(it != seqs_.end(), "no sequence {}", id);
  return *it->second;
}

}  // namespace tessera::serve
