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
  void merge(const WordCounts& other);
  size_t size() const { return counts_.size(); }
  std::string serialize() const;
  static WordCounts deserialize(std::string_view bytes);
  const std::unordered_map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::unordered_map<std::string, uint64_t> counts_;
};

}  // namespace tessera::datasets
