#include "datasets/filters.h"

#include <cmath>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/parallel_for.h"
#include "datasets/quality.h"

namespace tessera::datasets {

void validate(const FilterOptions& o) {
  TESSERA_CHECK(o.min_chars >= 0, "--min-chars must be 0 or more characters, got {}", o.min_chars);
  TESSERA_CHECK(std::isfinite(o.max_non_text) && o.max_non_text >= 0.0 && o.max_non_text <= 1.0,
                "--max-non-text must be a share in [0, 1], got {}", o.max_non_text);
  if (o.near_dedup) {
    TESSERA_CHECK(std::isfinite(*o.near_dedup) && *o.near_dedup > 0.0 && *o.near_dedup <= 1.0,
                  "--near-dedup must be a Jaccard similarity threshold in (0, 1], got {}", *o.near_dedup);
  }
  TESSERA_CHECK(o.shingle_words >= 1, "--shingle-words must be 1 or more, got {}", o.shingle_words);
}

nlohmann::json filters_json(const FilterOptions& o) {
  nlohmann::json near = nullptr;
  if (o.near_dedup) {
    const Banding b = banding_for(*o.near_dedup);
    near = {{"threshold", *o.near_dedup}, {"shingle_words", o.shingle_words}, {"seed", o.near_dedup_seed},
            {"minhashes", kMinHashes},    {"bands", b.bands},                 {"rows", b.rows}};
  }
  return {{"mask_pii", o.mask_pii},
          {"min_chars", o.min_chars},
          {"max_non_text", o.max_non_text},
          {"dedup", o.dedup ? "exact-normalised" : "off"},
          {"near_dedup", near}};
}

DocumentFilter::DocumentFilter(const FilterOptions& options) : options_(options) {
  validate(options_);
  if (options_.near_dedup) near_.emplace(*options_.near_dedup);
}

std::vector<KeptDocument> DocumentFilter::apply(std::vector<std::string> documents) {
  struct Measured {
    PiiCounts pii;
    bool too_short = false, non_text = false, no_words = false;
    std::string sha256, normalised_sha256;
    MinHashSignature signature;
  };
  const FilterOptions& o = options_;
  std::vector<Measured> m(documents.size());
  parallel_for(documents.size(), [&](size_t i) {
    std::string& text = documents[i];
    Measured& d = m[i];
    if (o.mask_pii) text = mask_pii(text, d.pii);
    d.too_short = o.min_chars > 0 && char_count(text) < static_cast<uint64_t>(o.min_chars);
    d.non_text = o.max_non_text < 1.0 && non_text_share(text) > o.max_non_text;
    if (d.too_short || d.non_text) return;
    d.sha256 = sha256_hex(text);
    if (o.dedup) d.normalised_sha256 = sha256_hex(normalise_for_dedup(text));
    if (o.near_dedup) {
      d.signature = minhash(text, static_cast<size_t>(o.shingle_words), o.near_dedup_seed, d.no_words);
    }
  });
  std::vector<KeptDocument> kept;
  for (size_t i = 0; i < documents.size(); ++i) {
    const Measured& d = m[i];
    counts_.pii += d.pii;
    if (d.too_short) {
      ++counts_.too_short;
    } else if (d.non_text) {
      ++counts_.non_text;
    } else if (o.dedup && !exact_.first_occurrence(d.normalised_sha256)) {
      ++counts_.duplicates;
    } else if (near_ && !d.no_words && near_->near_duplicate_or_add(d.signature)) {
      ++counts_.near_duplicates;
    } else {
      kept.push_back({std::move(documents[i]), d.sha256});
    }
  }
  return kept;
}

}  // namespace tessera::datasets
