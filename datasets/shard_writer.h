#pragma once
// Writes one split's token stream as numbered shards of at most `shard_tokens` tokens each: every
// shard but the last is full, and a document may continue into the next shard.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "datasets/manifest.h"
#include "datasets/shard.h"

namespace tessera::datasets {

class SplitWriter {
 public:
  // Shards go to dir/<split>_NNNNN.h5; meta.split names the split.
  SplitWriter(std::string dir, ShardMeta meta, uint64_t shard_tokens);

  // Appends one document: its ids, then the end-of-text token.
  void add_document(std::span<const TokenId> ids);
  // Writes the last, partial shard (if any tokens are pending). Call once, at the end.
  void finish();

  const std::vector<ManifestShard>& shards() const { return shards_; }
  uint64_t tokens() const { return tokens_; }
  uint64_t documents() const { return documents_; }

 private:
  void append(std::span<const TokenId> ids);
  void flush();

  std::string dir_;
  ShardMeta meta_;
  uint64_t shard_tokens_;
  std::vector<TokenId> buffer_;    // (n,) n < shard_tokens: the current shard's tokens
  std::vector<int64_t> offsets_;   // document starts within buffer_
  std::vector<ManifestShard> shards_;
  uint64_t tokens_ = 0, documents_ = 0;
};

}  // namespace tessera::datasets
