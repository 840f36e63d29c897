#include "datasets/tokenizer_merge.h"

#include <algorithm>
#include <limits>

namespace tessera::datasets {
namespace {

constexpr TokenId kRemoved = std::numeric_limits<TokenId>::max();
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// A symbol of the word being merged: a doubly linked list over the original byte positions.
struct Symbol {
  TokenId id;  // kRemoved once merged into its left neighbour
  uint32_t prev, next;
};

// An adjacent pair that has a merge, as it was when found. It is stale once either symbol changed:
// a symbol's token only grows, so it never turns back into `left` or `right`.
struct Candidate {
  uint32_t rank, pos;
  TokenId left, right, result;
  // Min-heap on (rank, pos): the lowest rank first, its occurrences from left to right.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

bool MergeTable::add(TokenId left, TokenId right, Merge merge) {
  return merges_.emplace(key(left, right), merge).second;
}

void apply_merges(const MergeTable& table, std::vector<TokenId>& word) {
  const auto n = static_cast<uint32_t>(word.size());
  if (n < 2) return;
  std::vector<Symbol> syms(n);
  for (uint32_t i = 0; i < n; ++i) syms[i] = {word[i], i == 0 ? kNone : i - 1, i + 1 == n ? kNone : i + 1};

  std::vector<Candidate> heap, pending;
  const auto consider = [&](std::vector<Candidate>& into, uint32_t pos) {
    if (pos == kNone || syms[pos].next == kNone) return;
    const TokenId l = syms[pos].id, r = syms[syms[pos].next].id;
    if (const Merge* m = table.find(l, r)) into.push_back({m->rank, pos, l, r, m->result});
  };
  for (uint32_t i = 0; i + 1 < n; ++i) consider(heap, i);
  std::make_heap(heap.begin(), heap.end());

  while (!heap.empty()) {
    // One pass of encoder.py: every occurrence of the lowest-ranked pair, left to right. Pairs that
    // the pass creates wait in `pending` until it ends, as encoder.py only looks at them afterwards.
    const uint32_t rank = heap.front().rank;
    while (!heap.empty() && heap.front().rank == rank) {
      std::pop_heap(heap.begin(), heap.end());
      const Candidate c = heap.back();
      heap.pop_back();
      Symbol& s = syms[c.pos];
      if (s.id != c.left || s.next == kNone || syms[s.next].id != c.right) continue;  // stale
      Symbol& right = syms[s.next];
      s.id = c.result;
      right.id = kRemoved;
      s.next = right.next;
      if (s.next != kNone) syms[s.next].prev = c.pos;
      consider(pending, s.prev);
      consider(pending, c.pos);
    }
    for (const Candidate& c : pending) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end());
    }
    pending.clear();
  }

  word.clear();
  for (uint32_t i = 0; i != kNone; i = syms[i].next) word.push_back(syms[i].id);
}

}  // namespace tessera::datasets
