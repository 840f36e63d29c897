#pragma once
// The document filters of `tessera prepare`, in the order they apply to each document read:
//   1. --mask-pii             PII replaced by typed placeholders (datasets/pii.h)
//   2. --min-chars N          documents of fewer than N characters dropped
//   3. --max-non-text F       documents whose share of non-text characters exceeds F dropped
//   4. exact deduplication    a document whose normalised text was seen before dropped (on unless
//                             --no-dedup)
//   5. --near-dedup T         a document whose estimated Jaccard similarity to a kept one reaches
//                             T dropped (datasets/near_dup.h)
// A dropped document counts once, under the first filter that drops it. Every decision depends
// only on the documents and the settings, in input order: the same for any thread or rank count.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/doc_split.h"
#include "datasets/near_dup.h"
#include "datasets/pii.h"

namespace tessera::datasets {

struct FilterOptions {
  bool mask_pii = false;
  int64_t min_chars = 0;              // >= 0; 0 keeps every length
  double max_non_text = 1.0;          // in [0, 1]; 1 keeps every document
  bool dedup = true;                  // exact duplicates of the normalised text
  std::optional<double> near_dedup;   // Jaccard threshold in (0, 1]; none: off
  int64_t shingle_words = 5;          // >= 1: words per shingle for near-duplicate detection
  uint64_t near_dedup_seed = 1;       // of the MinHash functions
};

// An error naming the first invalid setting by its command-line option.
void validate(const FilterOptions& options);

// The manifest's record of the filters and their settings (docs/data.md).
nlohmann::json filters_json(const FilterOptions& options);

struct FilterCounts {
  uint64_t too_short = 0, non_text = 0, duplicates = 0, near_duplicates = 0;
  PiiCounts pii;
  uint64_t dropped() const { return too_short + non_text + duplicates + near_duplicates; }
};

// A document that passed: its text (masked, with --mask-pii) and that text's SHA-256.
struct KeptDocument {
  std::string text, sha256;
};

class DocumentFilter {
 public:
  explicit DocumentFilter(const FilterOptions& options);

  // The documents of one input that pass, in order. The per-document work (masking, measures,
  // hashes, signatures) runs on this rank's threads; the decisions are taken in order.
  std::vector<KeptDocument> apply(std::vector<std::string> documents);
  const FilterCounts& counts() const { return counts_; }

 private:
  FilterOptions options_;
  FilterCounts counts_;
  Deduplicator exact_;
  std::optional<NearDuplicateIndex> near_;
};

}  // namespace tessera::datasets
