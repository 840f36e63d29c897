#pragma once
// Token shards: one HDF5 file per shard, readable by any HDF5 tool (schema in docs/data.md).
//   /tokens       (N,) uint16 when vocab_size <= 65536, else uint32: the documents' tokens, each
//                 document followed by the end-of-text token. Shards are cut at a token count, so
//                 a document may continue from the previous shard of its split.
//   /doc_offsets  (D,) int64: where each document that starts in this shard starts in /tokens
//   /lineage      () string, JSON: the input files whose documents are in this shard (path, bytes,
//                 sha256) and the filters applied; absent in shards written before lineage
//   attributes    format = "tessera-tokens", format_version, vocab_size, eot_id, tokenizer_hash, split
// Files carry no timestamps, so the same tokens always give the same bytes.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

inline constexpr std::string_view kShardFormat = "tessera-tokens";
inline constexpr int kShardFormatVersion = 1;

enum class TokenDtype { U16, U32 };

// The narrowest stored type for ids in [0, vocab_size); an error when no type can hold them.
TokenDtype dtype_for_vocab(uint64_t vocab_size);
std::string_view dtype_name(TokenDtype dtype);  // "uint16" or "uint32"

// "train_00000.h5": shards of one split numbered from 0.
std::string shard_name(std::string_view split, size_t index);

struct ShardMeta {
  uint64_t vocab_size = 0;
  uint64_t eot_id = 0;
  std::string tokenizer_hash;
  std::string split;  // "train" or "val"
  std::string lineage = {};  // JSON (/lineage); empty: none written
};

// Writes one shard at `path` (replacing it). tokens: (N,) N >= 1, every id < meta.vocab_size;
// doc_offsets: (D,) strictly ascending starts in [0, N) of the documents that start here.
void write_shard(const std::string& path, const ShardMeta& meta, std::span<const TokenId> tokens,
                 std::span<const int64_t> doc_offsets);

// Reads a shard written by write_shard; a clear error for a missing, non-HDF5, truncated or
// foreign file. One reader is not safe for concurrent use from several threads; readers on
// several threads take turns in HDF5 (which Debian builds without its thread-safe option).
class ShardReader {
 public:
  explicit ShardReader(const std::string& path);
  ~ShardReader();
  ShardReader(ShardReader&&) noexcept;
  ShardReader& operator=(ShardReader&&) noexcept;

  const std::string& path() const { return path_; }
  const ShardMeta& meta() const { return meta_; }
  TokenDtype dtype() const { return dtype_; }
  uint64_t num_tokens() const { return num_tokens_; }
  uint64_t num_documents() const { return num_documents_; }

  // Tokens [start, start + count) into out: (count,) int32.
  void read_tokens(uint64_t start, size_t count, int32_t* out) const;
  std::vector<int32_t> read_all_tokens() const;  // (N,)
  std::vector<int64_t> read_doc_offsets() const;  // (D,)

 private:
  struct Handles;  // the open HDF5 file and datasets
  std::string path_;
  std::unique_ptr<Handles> h5_;
  ShardMeta meta_;
  TokenDtype dtype_ = TokenDtype::U16;
  uint64_t num_tokens_ = 0, num_documents_ = 0;
};

}  // namespace tessera::datasets
