#include "eval/cloze.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "datasets/shard.h"

namespace tessera::eval {

namespace {

// SplitMix64: a fixed sequence for a seed on every platform (std:: distributions are not).
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Words [begin, end) joined by spaces.
std::string join(const std::vector<std::string>& words, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += ' ';
    out += words[i];
  }
  return out;
}

}  // namespace

std::vector<McItem> make_cloze(const std::vector<std::string>& documents, const ClozeOptions& options) {
  const size_t need = options.context_words + options.continuation_words;
  TESSERA_CHECK(options.context_words > 0 && options.continuation_words > 0 && options.choices >= 2,
                "a cloze task needs context and continuation words and at least two choices");
  std::vector<std::vector<std::string>> docs;
  for (const std::string& d : documents) {
    std::vector<std::string> words = words_of(d);
    if (words.size() >= need) docs.push_back(std::move(words));
  }
  TESSERA_CHECK(docs.size() >= 2, "only {} of {} validation documents have {} words or more: too few for a cloze task",
                docs.size(), documents.size(), need);
  Rng rng{options.seed};
  std::vector<size_t> order(docs.size());  // a seeded Fisher-Yates shuffle of the documents
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const auto continuation = [&](size_t doc) { return std::string(1, ' ').append(join(docs[doc], options.context_words, need)); };
  const size_t choices = std::min(options.choices, docs.size());
  std::vector<McItem> items;
  for (size_t i = 0; i < std::min(options.items, docs.size()); ++i) {
    const size_t doc = order[i];
    McItem item;
    item.context = join(docs[doc], 0, options.context_words);
    item.choices.push_back(continuation(doc));
    for (size_t tries = 0; item.choices.size() < choices && tries < 64 * choices; ++tries) {
      const std::string other = continuation(rng.below(docs.size()));
      if (std::find(item.choices.begin(), item.choices.end(), other) == item.choices.end()) item.choices.push_back(other);
    }
    if (item.choices.size() < 2) continue;  // every other document continues alike
    item.label = rng.below(item.choices.size());
    std::swap(item.choices[0], item.choices[item.label]);
    items.push_back(std::move(item));
  }
  TESSERA_CHECK(!items.empty(), "the validation documents gave no cloze item (their continuations are all alike)");
  return items;
}

std::vector<std::string> shard_documents(const std::vector<std::string>& shard_paths, const datasets::Tokenizer& tokenizer) {
  const datasets::TokenId eot = tokenizer.eot_id();
  std::vector<std::string> documents;
  std::vector<datasets::TokenId> current;
  for (const std::string& path : shard_paths) {
    for (const int32_t id : datasets::ShardReader(path).read_all_tokens()) {
      if (static_cast<datasets::TokenId>(id) != eot) {
        current.push_back(static_cast<datasets::TokenId>(id));
        continue;
      }
      if (!current.empty()) documents.push_back(tokenizer.decode(current));
      current.clear();
    }
  }
  if (!current.empty()) documents.push_back(tokenizer.decode(current));
  return documents;
}

}  // namespace tessera::eval
