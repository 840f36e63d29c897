#include <algorithm>
#include <vector>

#include "core/error.h"
#include "datasets/pretokenize.h"
#include "datasets/tokenizer_train.h"

namespace tessera::datasets {
namespace {

constexpr std::string_view kMagic = "TWC1";

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(0x80 | (v & 0x7F)));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t get_varint(std::string_view bytes, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    TESSERA_CHECK(pos < bytes.size(), "word counts: truncated at byte {}", pos);
    const auto b = static_cast<unsigned char>(bytes[pos++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  TESSERA_FAIL("word counts: a number at byte {} is too long", pos);
}

}  // namespace

void WordCounts::add_text(std::string_view text) {
  PreTokenizer::gpt2().split(text, [this](std::string_view piece) { ++counts_[std::string(piece)]; });
}

void WordCounts::add(std::string_view word, uint64_t count) { counts_[std::string(word)] += count; }

void WordCounts::merge(const WordCounts& other) {
  for (const auto& [word, count] : other.counts_) counts_[word] += count;
}

uint64_t WordCounts::total() const {
  uint64_t n = 0;
  for (const auto& entry : counts_) n += entry.second;
  return n;
}

std::string WordCounts::serialize() const {
  std::vector<const std::pair<const std::string, uint64_t>*> sorted;
  sorted.reserve(counts_.size());
  size_t bytes = kMagic.size() + 10;
  for (const auto& entry : counts_) {
    sorted.push_back(&entry);
    bytes += entry.first.size() + 4;
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  out.reserve(bytes);
  out += kMagic;
  put_varint(out, sorted.size());
  for (const auto* entry : sorted) {
    put_varint(out, entry->first.size());
    out += entry->first;
    put_varint(out, entry->second);
  }
  return out;
}

WordCounts WordCounts::deserialize(std::string_view bytes) {
  TESSERA_CHECK(bytes.starts_with(kMagic), "word counts: not serialised word counts (no \"{}\" header)", kMagic);
  size_t pos = kMagic.size();
  const uint64_t n = get_varint(bytes, pos);
  TESSERA_CHECK(n <= bytes.size(), "word counts: claims {} words in {} bytes", n, bytes.size());
  WordCounts wc;
  wc.counts_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t len = get_varint(bytes, pos);
    TESSERA_CHECK(len <= bytes.size() - pos, "word counts: word {} runs past the end", i);
    const std::string_view word = bytes.substr(pos, len);
    pos += len;
    wc.counts_[std::string(word)] += get_varint(bytes, pos);
  }
  TESSERA_CHECK(pos == bytes.size(), "word counts: {} bytes left over after {} words", bytes.size() - pos, n);
  return wc;
}

}  // namespace tessera::datasets
