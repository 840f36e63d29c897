#include "serve/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace tessera::serve {

BlockAllocator::BlockAllocator(int64_t n_blocks) : refs_(static_cast<size_t>(n_blocks), 0) {
  TESSERA_CHECK(n_blocks >= 1, "a KV cache needs at least one block, got {}", n_blocks);
  free_.reserve(refs_.size());
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));  // 0 first
}

int32_t BlockAllocator::allocate() {
  TESSERA_CHECK(!free_.empty(), "the KV cache has no free block (all {} in use)", n_blocks());
  const int32_t b = free_.back();
  free_.pop_back();
  refs_[b] = 1;
  return b;
}

void BlockAllocator::retain(int32_t block) {
  TESSERA_CHECK(block >= 0 && block < n_blocks() && refs_[block] > 0, "retain of block {}, which is not in use",
                block);
  ++refs_[block];
}

void BlockAllocator::release(int32_t block) {
  TESSERA_CHECK(block >= 0 && block < n_blocks() && refs_[block] > 0, "release of block {}, which is not in use",
                block);
  if (--refs_[block] == 0) free_.push_back(block);
}

int32_t BlockAllocator::ref_count(int32_t block) const {
  TESSERA_CHECK(block >= 0 && block < n_blocks(), "block {} is outside [0, {})", block, n_blocks());
  return refs_[block];
}

std::optional<core::DType> parse_kv_dtype(const std::string& text) {
  TESSERA_CHECK(text == "auto" || text == "f32" || text == "bf16", "--kv-cache-dtype must be auto, f32 or bf16, got '{}'",
                text);
  return text == "auto" ? std::nullopt : std::optional(core::dtype_from_name(text));
}

int64_t blocks_for_budget(const KvCacheShape& shape, int64_t bytes) {
  return std::max<int64_t>(1, bytes / shape.block_bytes());
}

int64_t blocks_for_tokens(int64_t n, int64_t block_size) { return (n + block_size - 1) / block_size; }

KvCache::KvCache(const KvCacheShape& shape, int64_t n_blocks)
    : shape_(shape), allocator_(n_blocks), key_of_(static_cast<size_t>(n_blocks)) {
  TESSERA_CHECK(shape.n_layer >= 1 && shape.n_kv_head >= 1 && shape.head_dim >= 1 && shape.block_size >= 1,
                "bad KV cache shape: {} layers, {} kv heads of {}, blocks of {} tokens", shape.n_layer,
                shape.n_kv_head, shape.head_dim, shape.block_size);
  TESSERA_CHECK(shape.dtype == core::DType::f32 || shape.dtype == core::DType::bf16,
                "a KV cache holds f32 or bf16, not {}", core::dtype_name(shape.dtype));
  const core::Shape s{shape.n_layer, n_blocks, shape.n_kv_head, shape.block_size, shape.head_dim};
  k_ = core::Tensor::zeros(s, shape.dtype);
  v_ = core::Tensor::zeros(s, shape.dtype);
}

bool KvCache::reserve(BlockTable& table, int64_t n) {
  const int64_t need = blocks_for_tokens(n, shape_.block_size) - static_cast<int64_t>(table.blocks.size());
  if (need <= 0) return true;
  if (need > allocator_.free_blocks()) return false;
  for (int64_t i = 0; i < need; ++i) table.blocks.push_back(allocator_.allocate());
  return true;
}

void KvCache::free(BlockTable& table) {
  for (int32_t b : table.blocks) {
    if (allocator_.ref_count(b) == 1 && !key_of_[b].empty()) {  // its last owner: out of the index
      index_.erase(key_of_[b]);
      key_of_[b].clear();
    }
    allocator_.release(b);
  }
  table.blocks.clear();
  table.n_cached = 0;
}

std::string KvCache::block_key(const BlockTable& table, const std::vector<int32_t>& tokens, size_t i) const {
  const int32_t parent = i == 0 ? -1 : table.blocks[i - 1];
  std::string key(sizeof(int32_t) * static_cast<size_t>(1 + shape_.block_size), '\0');
  std::memcpy(key.data(), &parent, sizeof(int32_t));
  std::memcpy(key.data() + sizeof(int32_t), tokens.data() + i * static_cast<size_t>(shape_.block_size),
              sizeof(int32_t) * static_cast<size_t>(shape_.block_size));
  return key;
}

int64_t KvCache::share_prefix(BlockTable& table, const std::vector<int32_t>& tokens, int64_t limit) {
  TESSERA_CHECK(table.blocks.empty(), "prefix sharing needs an empty block table");
  const int64_t bs = shape_.block_size;
  for (size_t i = 0; static_cast<int64_t>(i + 1) * bs <= std::min<int64_t>(limit, static_cast<int64_t>(tokens.size()));
       ++i) {
    const auto it = index_.find(block_key(table, tokens, i));
    if (it == index_.end()) break;
    allocator_.retain(it->second);
    table.blocks.push_back(it->second);
  }
  table.n_cached = static_cast<int64_t>(table.blocks.size()) * bs;
  return table.n_cached;
}

void KvCache::index_full_blocks(const BlockTable& table, const std::vector<int32_t>& tokens) {
  const int64_t full = std::min<int64_t>(table.n_cached, static_cast<int64_t>(tokens.size())) / shape_.block_size;
  for (size_t i = 0; static_cast<int64_t>(i) < full; ++i) {
    const int32_t b = table.blocks[i];
    if (!key_of_[b].empty()) continue;  // indexed already (by this sequence or as a shared block)
    std::string key = block_key(table, tokens, i);
    if (index_.count(key)) continue;  // the same tokens computed by another sequence: theirs stays
    index_[key] = b;
    key_of_[b] = std::move(key);
  }
}

}  // namespace tessera::serve
