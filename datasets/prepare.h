#pragma once
// prepare: text inputs -> filtered (PII masking, quality, deduplication), split, tokenized HDF5
// token shards + tokenizer.json + manifest.json in one output directory (formats in docs/data.md).
//
// Every rank of `world` calls prepare with the same options. Ranks read and hash the inputs alike
// (cheap), share the expensive work (word counting for tokenizer training and tokenization, by
// document index modulo the rank count), and root merges, trains, and writes every file. The output
// is byte-identical for any rank count. Collectives, in the same order on every rank: for the
// tokenizer a gather of word counts (when training) and a broadcast of its JSON; a gather per
// block of documents; a final broadcast of the manifest.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/documents.h"
#include "datasets/filters.h"
#include "datasets/manifest.h"
#include "parallel/world.h"

namespace tessera::datasets {

struct PrepareOptions {
  std::vector<std::string> inputs;  // files or directories, read in this order
  std::string out_dir;
  InputFormat format = InputFormat::Auto;
  std::string tokenizer_path;       // a tokenizer to use (any format Tokenizer::load reads) ...
  bool train_tokenizer = false;     // ... or train one on the training documents
  uint64_t vocab_size = 0;          // of the trained tokenizer
  double val_fraction = 0.05;       // in [0, 1)
  uint64_t seed = 1337;             // of the train/validation split
  uint64_t shard_tokens = 100'000'000;
  FilterOptions filters;            // PII masking and quality filters (datasets/filters.h)
  std::string tessera_version;      // recorded in the manifest
};

// An error naming the first invalid option.
void validate(const PrepareOptions& options);

// Runs the whole preparation; returns the manifest it wrote (on every rank).
Manifest prepare(const PrepareOptions& options, const parallel::World& world);

}  // namespace tessera::datasets
