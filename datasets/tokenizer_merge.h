#pragma once
// Applying ranked BPE merges to one pre-tokenised piece, with exactly the semantics of GPT-2's
// encoder.py: repeatedly take the lowest-ranked adjacent pair present, merge all of its
// non-overlapping occurrences from left to right, and stop when no adjacent pair has a rank.
// Runs in O(n log n) for a piece of n bytes (a heap of candidate pairs), so that long pieces
// (a megabyte of digits, say) do not take quadratic time.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

struct Merge {
  uint32_t rank;   // position in the merge list: lower merges first
  TokenId result;  // the token of the merged pair
};

class MergeTable {
 public:
  // False (and no change) when the pair already has a merge.
  bool add(TokenId left, TokenId right, Merge merge);
  const Merge* find(TokenId left, TokenId right) const {
    const auto it = merges_.find(key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
  }
  size_t size() const { return merges_.size(); }

 private:
  static uint64_t key(TokenId left, TokenId right) { return (static_cast<uint64_t>(left) << 32) | right; }
  std::unordered_map<uint64_t, Merge> merges_;
};

// Merges `word` (token ids, initially one per byte) in place.
void apply_merges(const MergeTable& table, std::vector<TokenId>& word);

}  // namespace tessera::datasets
