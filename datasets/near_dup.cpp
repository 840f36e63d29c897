#include "datasets/near_dup.h"

#include <cmath>
#include <deque>
#include <limits>

#include "core/splitmix.h"

namespace tessera::datasets {

namespace {

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         static_cast<unsigned char>(c) >= 0x80;
}

// FNV-1a over the word's bytes, ASCII lowercased.
uint64_t word_hash(std::string_view word) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : word) {
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    h = (h ^ static_cast<unsigned char>(lower)) * 0x100000001b3ull;
  }
  return h;
}

// The hash functions h_i(x) = top 32 bits of (a_i * x + b_i) mod 2^64, a_i odd: multiply-shift
// hashing, drawn from SplitMix64 seeded with `seed`.
struct HashFamily {
  std::array<uint64_t, kMinHashes> a{}, b{};
  explicit HashFamily(uint64_t seed) {
    for (size_t i = 0; i < kMinHashes; ++i) {
      a[i] = splitmix64(seed) | 1u;
      b[i] = splitmix64(seed);
    }
  }
};

}  // namespace

MinHashSignature minhash(std::string_view text, size_t shingle_words, uint64_t seed, bool& empty) {
  const HashFamily family(seed);
  MinHashSignature sig;
  sig.fill(std::numeric_limits<uint32_t>::max());
  auto add_shingle = [&](const std::deque<uint64_t>& words) {
    uint64_t x = 0;
    for (uint64_t w : words) x = mix64(x ^ w);
    for (size_t i = 0; i < kMinHashes; ++i) {
      const auto h = static_cast<uint32_t>((family.a[i] * x + family.b[i]) >> 32);
      if (h < sig[i]) sig[i] = h;
    }
  };
  std::deque<uint64_t> window;  // the last `shingle_words` word hashes
  size_t words = 0;
  for (size_t i = 0; i < text.size();) {
    if (!is_word_byte(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && is_word_byte(text[i])) ++i;
    window.push_back(word_hash(text.substr(start, i - start)));
    if (window.size() > shingle_words) window.pop_front();
    if (++words >= shingle_words) add_shingle(window);
  }
  if (words > 0 && words < shingle_words) add_shingle(window);
  empty = words == 0;
  return sig;
}

double estimated_jaccard(const MinHashSignature& a, const MinHashSignature& b) {
  size_t same = 0;
  for (size_t i = 0; i < kMinHashes; ++i) same += a[i] == b[i] ? 1 : 0;
  return static_cast<double>(same) / static_cast<double>(kMinHashes);
}

Banding banding_for(double threshold) {
  for (size_t rows = kMinHashes; rows >= 1; rows /= 2) {
    const size_t bands = kMinHashes / rows;
    const double p = 1.0 - std::pow(1.0 - std::pow(threshold, static_cast<double>(rows)), static_cast<double>(bands));
    if (p >= 0.99) return {bands, rows};
  }
  return {kMinHashes, 1};
}

NearDuplicateIndex::NearDuplicateIndex(double threshold)
    : threshold_(threshold), banding_(banding_for(threshold)), buckets_(banding_.bands) {}

bool NearDuplicateIndex::near_duplicate_or_add(const MinHashSignature& signature) {
  ++queries_;
  std::vector<uint64_t> keys(banding_.bands);
  for (size_t band = 0; band < banding_.bands; ++band) {
    uint64_t key = band;
    for (size_t r = 0; r < banding_.rows; ++r) key = mix64(key ^ signature[band * banding_.rows + r]);
    keys[band] = key;
    const auto it = buckets_[band].find(key);
    if (it == buckets_[band].end()) continue;
    for (uint32_t id : it->second) {
      if (seen_by_[id] == queries_) continue;
      seen_by_[id] = queries_;
      if (estimated_jaccard(signature, kept_[id]) >= threshold_) return true;
    }
  }
  const auto id = static_cast<uint32_t>(kept_.size());
  kept_.push_back(signature);
  seen_by_.push_back(0);
  for (size_t band = 0; band < banding_.bands; ++band) buckets_[band][keys[band]].push_back(id);
  return false;
}

}  // namespace tessera::datasets
