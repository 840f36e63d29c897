#pragma once
// Deduplication and the train/validation split, both decided by a document's content alone (its
// SHA-256) and the seed: neither the input order, the file a document sits in, nor the rank count
// changes which documents are kept or which split they land in.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace tessera::datasets {

// An error unless 0 <= fraction < 1.
void check_val_fraction(double fraction);

// True when the document with this content hash (64 hex digits) belongs to the validation split:
// a seeded hash of it, read as a number in [0, 1), falls below `val_fraction`.
bool is_val_document(std::string_view content_sha256, uint64_t seed, double val_fraction);

// Exact duplicates by content hash: the first occurrence is kept.
class Deduplicator {
 public:
  // True the first time a hash is seen.
  bool first_occurrence(std::string_view content_sha256);
  size_t size() const { return seen_.size(); }

 private:
  struct Key {
    uint64_t hi = 0, lo = 0;  // the first 128 bits of the hash
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.hi ^ (k.lo * 0x9E3779B97F4A7C15ull)); }
  };
  std::unordered_set<Key, KeyHash> seen_;
};

}  // namespace tessera::datasets
