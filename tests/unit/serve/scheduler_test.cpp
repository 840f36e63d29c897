// The scheduler's policy without a model: token budgets, chunked prefill, decodes before prompts,
// admission limits, preemption of the most recently admitted sequence and its recomputation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "serve/scheduler.h"

namespace tessera::serve {
namespace {

KvCacheShape tiny() { return {.n_layer = 1, .n_kv_head = 1, .head_dim = 1, .block_size = 4}; }

std::vector<int32_t> prompt(int n, int32_t token = 7) { return std::vector<int32_t>(static_cast<size_t>(n), token); }

struct Span {
  int64_t id, start, end;
  bool sample;
  bool operator==(const Span&) const = default;
};

std::vector<Span> spans(const StepPlan& p) {
  std::vector<Span> s;
  for (const auto& c : p.chunks) s.push_back({c.seq->id, c.start, c.end, c.sample});
  return s;
}

std::ostream& operator<<(std::ostream& os, const Span& s) {
  return os << "{" << s.id << ": " << s.start << ".." << s.end << (s.sample ? " sample" : "") << "}";
}

// Runs a plan: marks it computed and appends a token to every sequence it sampled.
void run(Scheduler& s, const StepPlan& p) {
  s.computed(p);
  for (const auto& c : p.chunks) {
    if (c.sample) s.append(c.seq->id, 1);
  }
}

TEST(Scheduler, LongPromptIsChunkedByTheTokenBudget) {
  KvCache cache(tiny(), 64);
  Scheduler s({.max_step_tokens = 8}, cache);
  s.add(1, prompt(20), 40);
  auto p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 0, 8, false}}));
  run(s, p);
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 8, 16, false}}));
  run(s, p);
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 16, 20, true}}));
  run(s, p);
  s.add(2, prompt(10, 8), 20);  // joins between steps: the decode goes first, the prompt takes the rest
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 20, 21, true}, {2, 0, 7, false}}));
  EXPECT_EQ(p.tokens(), 8);
}

TEST(Scheduler, DecodesAreNeverStalledByAPromptInProgress) {
  KvCache cache(tiny(), 64);
  Scheduler s({.max_step_tokens = 6}, cache);
  s.add(1, prompt(30), 40);  // admitted first, still in its prompt
  run(s, s.schedule());
  s.add(2, prompt(1), 10);
  auto p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 6, 12, false}}));  // the budget is spent: 2 waits
  run(s, p);
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 12, 18, false}}));
  // Once 2 runs it decodes every step ahead of 1's chunks, though 1 was admitted first.
  s.finish(1);
  s.add(3, prompt(30), 40);
  run(s, s.schedule());  // 2's prompt (1 token) and 3's first chunk
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{2, 1, 2, true}, {3, 5, 10, false}}));
}

TEST(Scheduler, AdmitsAtMostMaxRunningAndFinishedLeaveAtOnce) {
  KvCache cache(tiny(), 64);
  Scheduler s({.max_step_tokens = 100, .max_running = 2}, cache);
  for (int id = 1; id <= 3; ++id) s.add(id, prompt(3), 10);
  auto p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 0, 3, true}, {2, 0, 3, true}}));
  EXPECT_EQ(s.n_waiting(), 1u);
  run(s, p);
  s.finish(1);
  EXPECT_EQ(cache.allocator().free_blocks(), 63);  // 1's block came back
  p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{2, 3, 4, true}, {3, 0, 3, true}}));
}

TEST(Scheduler, PreemptsTheMostRecentlyAdmittedAndRecomputesItLater) {
  KvCache cache(tiny(), 4);  // 16 tokens in blocks of 4
  Scheduler s({.max_step_tokens = 100}, cache);
  for (int id = 1; id <= 3; ++id) s.add(id, prompt(4), 8);
  run(s, s.schedule());  // three blocks used; each sequence now holds 5 tokens and needs a second
  auto p = s.schedule();
  // 1 takes the free block; 2 needs one more: 3, admitted last, is preempted.
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 4, 5, true}, {2, 4, 5, true}}));
  EXPECT_EQ(p.preempted, std::vector<int64_t>{3});
  EXPECT_EQ(s.sequence(3).table.n_cached, 0);
  EXPECT_EQ(s.sequence(3).preemptions, 1);
  EXPECT_EQ(s.n_waiting(), 1u);
  run(s, p);
  p = s.schedule();  // no block for 3 yet: it waits
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 5, 6, true}, {2, 5, 6, true}}));
  run(s, p);
  s.finish(1);
  p = s.schedule();  // 3 is recomputed from its 5 tokens (prompt and the one generated) and samples
  EXPECT_EQ(spans(p), (std::vector<Span>{{2, 6, 7, true}, {3, 0, 5, true}}));
}

TEST(Scheduler, ASequenceThatIsLastPreemptsItself) {
  KvCache cache(tiny(), 2);
  Scheduler s({.max_step_tokens = 100}, cache);
  s.add(1, prompt(2), 8);
  s.add(2, prompt(4), 8);
  run(s, s.schedule());  // 1 holds 3 tokens (room in its block), 2 holds 5 (needs a second block)
  const auto p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 2, 3, true}}));
  EXPECT_EQ(p.preempted, std::vector<int64_t>{2});
  EXPECT_EQ(cache.allocator().free_blocks(), 1);
}

TEST(Scheduler, SharesTheCachedBlocksOfACommonPrefix) {
  KvCache cache(tiny(), 16);
  Scheduler s({.max_step_tokens = 100}, cache);
  std::vector<int32_t> p1 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  s.add(1, p1, 20);
  run(s, s.schedule());
  EXPECT_EQ(cache.indexed_blocks(), 2);  // tokens 0..7: two full blocks of 4
  // The same first 9 tokens: two shared blocks (8 tokens), computing from token 8 on.
  std::vector<int32_t> p2 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 42, 43};
  s.add(2, p2, 20);
  // Only the first block in common: one shared block.
  s.add(3, {1, 2, 3, 4, 0, 0}, 20);
  // A prompt of exactly one block shares nothing: its last token must be computed.
  s.add(4, {1, 2, 3, 4}, 20);
  const auto p = s.schedule();
  EXPECT_EQ(spans(p), (std::vector<Span>{{1, 10, 11, true}, {2, 8, 11, true}, {3, 4, 6, true}, {4, 0, 4, true}}));
  EXPECT_EQ(p.shared_tokens, 8 + 4);
  EXPECT_EQ(s.sequence(2).table.blocks[0], s.sequence(1).table.blocks[0]);
  EXPECT_EQ(s.sequence(2).table.blocks[1], s.sequence(1).table.blocks[1]);
  EXPECT_EQ(s.sequence(3).table.blocks[0], s.sequence(1).table.blocks[0]);
  EXPECT_EQ(cache.allocator().ref_count(s.sequence(1).table.blocks[0]), 3);
  // Owners leave one by one; the blocks stay until the last.
  const int32_t first = s.sequence(1).table.blocks[0];
  s.finish(1);
  s.finish(2);
  EXPECT_EQ(cache.allocator().ref_count(first), 1);
  s.finish(3);
  s.finish(4);
  EXPECT_EQ(cache.allocator().free_blocks(), 16);
  EXPECT_EQ(cache.indexed_blocks(), 0);
}

TEST(Scheduler, RejectsRequestsThatCanNeverFit) {
  KvCache cache(tiny(), 2);
  Scheduler s({}, cache);
  EXPECT_THROW(s.add(1, prompt(3), 9), Error);  // 9 tokens need 3 blocks of 4
  EXPECT_THROW(s.add(1, {}, 4), Error);
  s.add(1, prompt(3), 8);
  EXPECT_THROW(s.add(1, prompt(3), 8), Error);
}

}  // namespace
}  // namespace tessera::serve
