#pragma once
// BPE training input: how often each pre-tokenised word occurs. Ranks count their share of a
// corpus, root merges the serialised counts and trains; the result does not depend on how the
// corpus was split.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

class WordCounts {
 public:
  void add_text(std::string_view text);  // pre-tokenises with GPT-2's regex and counts the pieces
  void add(std::string_view word, uint64_t count);
  void merge(const WordCounts& other);
  size_t size() const { return counts_.size(); }
  uint64_t total() const;  // pieces counted, with repeats
  // Compact and canonical (words in byte order, lengths and counts as varints): equal counts give
  // equal bytes, whatever order they were added in.
  std::string serialize() const;
  static WordCounts deserialize(std::string_view bytes);  // malformed bytes are an error
  const std::unordered_map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::unordered_map<std::string, uint64_t> counts_;
};

}  // namespace tessera::datasets
