// Byte-level BPE training. Every word starts as its bytes (token id = byte value); each step merges
// the most frequent adjacent pair, counted over all words weighted by their frequency, into a new
// token. Ties go to the pair with the smallest (left id, right id), so the result never depends on
// hash-map order. Pair counts are updated incrementally, touching only the words that hold the
// merged pair, and the best pair comes from a max-heap with lazy deletion: an entry whose count is
// out of date is pushed back with the current count when it reaches the top (counts of existing
// pairs only fall; new pairs are pushed when created).
#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "datasets/tokenizer_train.h"

namespace tessera::datasets {
namespace {

using Pair = uint64_t;  // (left << 32) | right
Pair make_pair_key(TokenId a, TokenId b) { return (static_cast<uint64_t>(a) << 32) | b; }
TokenId left_of(Pair p) { return static_cast<TokenId>(p >> 32); }
TokenId right_of(Pair p) { return static_cast<TokenId>(p & 0xFFFFFFFFu); }

struct Word {
  std::vector<TokenId> symbols;
  int64_t count;
};

struct HeapEntry {
  int64_t count;
  Pair pair;
  // Max-heap: the highest count first; among equal counts the smallest pair.
  bool operator<(const HeapEntry& o) const { return count != o.count ? count < o.count : pair > o.pair; }
};

class Trainer {
 public:
  explicit Trainer(const WordCounts& counts) {
    words_.reserve(counts.size());
    for (const auto& [text, count] : counts.counts()) {
      if (text.size() < 2) continue;  // a single byte has no pair to merge
      Word w{{}, static_cast<int64_t>(count)};
      for (const char c : text) w.symbols.push_back(static_cast<unsigned char>(c));
      words_.push_back(std::move(w));
    }
    for (uint32_t wi = 0; wi < words_.size(); ++wi) {
      const Word& w = words_[wi];
      for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
        const Pair p = make_pair_key(w.symbols[i], w.symbols[i + 1]);
        pair_counts_[p] += w.count;
        where_[p].push_back(wi);
      }
    }
    for (const auto& [pair, count] : pair_counts_) heap_.push({count, pair});
  }

  // The most frequent pair, or false when no pair is left.
  bool best(Pair& out) {
    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const auto it = pair_counts_.find(top.pair);
      const int64_t now = it == pair_counts_.end() ? 0 : it->second;
      if (now == top.count && now > 0) {
        out = top.pair;
        return true;
      }
      if (now > 0) heap_.push({now, top.pair});
    }
    return false;
  }

  // Replaces every occurrence of `pair` by `merged` and updates the pair counts.
  void merge(Pair pair, TokenId merged) {
    const TokenId a = left_of(pair), b = right_of(pair);
    std::vector<uint32_t> holders = std::move(where_[pair]);
    where_.erase(pair);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    std::unordered_set<Pair> created;
    for (const uint32_t wi : holders) {
      Word& w = words_[wi];
      auto& s = w.symbols;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] != a || s[i + 1] != b) continue;
        if (i > 0) {
          change(make_pair_key(s[i - 1], a), -w.count);
          change(make_pair_key(s[i - 1], merged), w.count, wi, &created);
        }
        change(pair, -w.count);
        if (i + 2 < s.size()) {
          change(make_pair_key(b, s[i + 2]), -w.count);
          change(make_pair_key(merged, s[i + 2]), w.count, wi, &created);
        }
        s[i] = merged;
        s.erase(s.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      }
    }
    pair_counts_.erase(pair);
    for (const Pair p : created) {
      if (const auto it = pair_counts_.find(p); it != pair_counts_.end()) heap_.push({it->second, p});
    }
  }

 private:
  void change(Pair p, int64_t delta, uint32_t word = 0, std::unordered_set<Pair>* created = nullptr) {
    const int64_t now = (pair_counts_[p] += delta);
    if (now <= 0) pair_counts_.erase(p);
    if (created && delta > 0) {
      where_[p].push_back(word);
      created->insert(p);
    }
  }

  std::vector<Word> words_;
  std::unordered_map<Pair, int64_t> pair_counts_;
  std::unordered_map<Pair, std::vector<uint32_t>> where_;  // words that held the pair (maybe no longer)
  std::priority_queue<HeapEntry> heap_;
};

}  // namespace

Tokenizer train_bpe(const WordCounts& counts, size_t vocab_size, const std::vector<std::string>& special_tokens) {
  TESSERA_CHECK(vocab_size >= 256 + special_tokens.size(),
                "vocabulary size {} is too small: a byte-level BPE needs 256 byte tokens + {} special tokens = {}",
                vocab_size, special_tokens.size(), 256 + special_tokens.size());
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    const std::string& special = special_tokens[i];
    TESSERA_CHECK(special.size() > 1 && is_valid_utf8(special),
                  "special token \"{}\" must be valid UTF-8 of more than one byte", special);
    TESSERA_CHECK(std::find(special_tokens.begin(), special_tokens.begin() + static_cast<std::ptrdiff_t>(i),
                            special) == special_tokens.begin() + static_cast<std::ptrdiff_t>(i),
                  "special token \"{}\" is listed twice", special);
  }
  BpeParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.emplace_back(1, static_cast<char>(b));
  std::unordered_map<std::string, TokenId> id_of;
  for (TokenId i = 0; i < 256; ++i) id_of.emplace(parts.tokens[i], i);

  const size_t ordinary = vocab_size - special_tokens.size();
  Trainer trainer(counts);
  Pair pair = 0;
  while (parts.tokens.size() < ordinary && trainer.best(pair)) {
    const TokenId a = left_of(pair), b = right_of(pair);
    // The same bytes can arise from different pairs ("ab"+"c", "a"+"bc"): both merges give one token.
    const auto [it, fresh] = id_of.emplace(parts.tokens[a] + parts.tokens[b], static_cast<TokenId>(parts.tokens.size()));
    if (fresh) parts.tokens.push_back(it->first);
    parts.merges.emplace_back(a, b);
    trainer.merge(pair, it->second);
  }

  for (const std::string& special : special_tokens) {
    TESSERA_CHECK(!id_of.contains(special), "special token \"{}\" is also an ordinary token", special);
    parts.specials.push_back(static_cast<TokenId>(parts.tokens.size()));
    parts.tokens.push_back(special);
  }
  return Tokenizer::from_parts(std::move(parts), "trained tokenizer");
}

}  // namespace tessera::datasets
