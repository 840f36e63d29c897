#pragma once
// Near-duplicate detection for prepare: MinHash signatures over word shingles, and an index that
// finds earlier documents with a similar signature by LSH banding.
//
// A document's shingles are its runs of `shingle_words` consecutive words (words: runs of ASCII
// letters and digits or non-ASCII bytes, lowercased; a document with fewer words is one shingle).
// Its signature holds, for each of kMinHashes seeded hash functions, the least hash over its
// shingles; two signatures agree in a position with probability equal to the Jaccard similarity
// of the shingle sets. A document is a near duplicate when the estimated similarity to a document
// kept before it reaches the threshold. Everything is seeded and fully specified: the same
// documents in the same order give the same answers on every machine.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tessera::datasets {

inline constexpr size_t kMinHashes = 128;
using MinHashSignature = std::array<uint32_t, kMinHashes>;

// The signature of `text`; `empty` is set when the text has no words (no shingles).
MinHashSignature minhash(std::string_view text, size_t shingle_words, uint64_t seed, bool& empty);

// The share of positions where two signatures agree: an estimate of the Jaccard similarity.
double estimated_jaccard(const MinHashSignature& a, const MinHashSignature& b);

// LSH banding: the signature cut into `bands` bands of `rows` hashes; two documents are compared
// when some band is equal in both. The chosen rows are the most (fewest comparisons) for which a
// pair at the threshold becomes a candidate with probability >= 0.99: 1 - (1 - t^rows)^bands.
struct Banding {
  size_t bands = 0, rows = 0;
};
Banding banding_for(double threshold);

// The documents kept so far, by signature.
class NearDuplicateIndex {
 public:
  explicit NearDuplicateIndex(double threshold);
  const Banding& banding() const { return banding_; }

  // True when an earlier added signature is at least `threshold` similar; otherwise adds this one.
  bool near_duplicate_or_add(const MinHashSignature& signature);

 private:
  double threshold_;
  Banding banding_;
  std::vector<MinHashSignature> kept_;
  std::vector<std::unordered_map<uint64_t, std::vector<uint32_t>>> buckets_;  // per band: key -> kept ids
  std::vector<uint64_t> seen_by_;  // per kept id: the last query that compared against it
  uint64_t queries_ = 0;
};

}  // namespace tessera::datasets
