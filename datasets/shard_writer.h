#pragma once
// Writes one split's token stream as numbered shards of at most `shard_tokens` tokens each: every
// shard but the last is full, and a document may continue into the next shard. Each shard records
// its lineage: the input files its documents came from, and the filters applied.
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "datasets/manifest.h"
#include "datasets/shard.h"

namespace tessera::datasets {

class SplitWriter {
 public:
  // Shards go to dir/<split>_NNNNN.h5; meta.split names the split. `inputs` (which may grow while
  // writing) are the input files that add_document's `source` indexes; `filters` the filters'
  // record (filters_json), both kept by reference.
  SplitWriter(std::string dir, ShardMeta meta, uint64_t shard_tokens, const std::vector<ManifestInput>& inputs,
              const nlohmann::json& filters);

  // Appends one document read from inputs[source]: its ids, then the end-of-text token.
  void add_document(std::span<const TokenId> ids, uint64_t source);
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
  const std::vector<ManifestInput>& inputs_;
  const nlohmann::json& filters_;
  std::set<uint64_t> sources_;     // of the tokens in buffer_
  uint64_t source_ = 0;            // of the document being appended
  std::vector<ManifestShard> shards_;
  uint64_t tokens_ = 0, documents_ = 0;
};

}  // namespace tessera::datasets
