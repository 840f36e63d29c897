#include "datasets/shard_writer.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/sha256.h"

namespace tessera::datasets {

SplitWriter::SplitWriter(std::string dir, ShardMeta meta, uint64_t shard_tokens,
                         const std::vector<ManifestInput>& inputs, const nlohmann::json& filters)
    : dir_(std::move(dir)), meta_(std::move(meta)), shard_tokens_(shard_tokens), inputs_(inputs), filters_(filters) {
  TESSERA_CHECK(shard_tokens_ > 0, "the tokens per shard must be positive");
}

void SplitWriter::add_document(std::span<const TokenId> ids, uint64_t source) {
  TESSERA_CHECK(source < inputs_.size(), "document source {} is not one of the {} inputs", source, inputs_.size());
  source_ = source;
  offsets_.push_back(static_cast<int64_t>(buffer_.size()));
  ++documents_;
  append(ids);
  const TokenId eot = static_cast<TokenId>(meta_.eot_id);
  append(std::span<const TokenId>(&eot, 1));
}

void SplitWriter::append(std::span<const TokenId> ids) {
  while (!ids.empty()) {
    const size_t room = static_cast<size_t>(shard_tokens_ - buffer_.size());
    const size_t take = std::min(room, ids.size());
    sources_.insert(source_);
    buffer_.insert(buffer_.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(take));
    ids = ids.subspan(take);
    if (buffer_.size() == shard_tokens_) flush();
  }
}

void SplitWriter::flush() {
  if (buffer_.empty()) return;
  const std::string name = shard_name(meta_.split, shards_.size());
  const std::string path = (std::filesystem::path(dir_) / name).string();
  nlohmann::json sources = nlohmann::json::array();
  for (uint64_t k : sources_) {
    const ManifestInput& in = inputs_[k];
    sources.push_back({{"path", in.path}, {"bytes", in.bytes}, {"sha256", in.sha256}});
  }
  ShardMeta meta = meta_;
  meta.lineage = nlohmann::json{{"sources", sources}, {"filters", filters_}}.dump();
  write_shard(path, meta, buffer_, offsets_);
  shards_.push_back({name, meta_.split, buffer_.size(), offsets_.size(), sha256_file(path),
                     std::vector<uint64_t>(sources_.begin(), sources_.end())});
  tokens_ += buffer_.size();
  buffer_.clear();
  offsets_.clear();
  sources_.clear();
}

void SplitWriter::finish() { flush(); }

}  // namespace tessera::datasets
