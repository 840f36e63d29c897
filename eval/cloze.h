#pragma once
// The built-in cloze task, made from held-out documents (the prepared data's validation split) so
// that a fresh machine has a real multiple-choice task: each item's context is the first
// `context_words` words of a document, the right choice its next `continuation_words` words, and
// the other choices the same stretch (the words after the first context_words) of other
// documents, at a seeded position among them. Items use distinct documents, in a seeded order:
// the same documents and options give the same items. Local (no MPI).
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/tokenizer.h"
#include "eval/task_file.h"

namespace tessera::eval {

struct ClozeOptions {
  size_t items = 100;             // at most this many (one per eligible document)
  size_t choices = 4;             // at most this many (one per eligible document)
  size_t context_words = 12;
  size_t continuation_words = 6;
  uint64_t seed = 1234;
};

// Items from documents; documents with fewer than context_words + continuation_words words are
// not used. An error when fewer than two documents are long enough.
std::vector<McItem> make_cloze(const std::vector<std::string>& documents, const ClozeOptions& options);

// The documents of token shards, in order: the tokens split at each end-of-text token, decoded.
std::vector<std::string> shard_documents(const std::vector<std::string>& shard_paths, const datasets::Tokenizer& tokenizer);

}  // namespace tessera::eval
