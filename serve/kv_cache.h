#pragma once
// The paged key/value cache (vLLM's PagedAttention layout): keys and values of every layer live in
// fixed-size blocks of block_size tokens; a sequence owns a list of blocks (its block table), so
// sequences of any length share one pool with no fragmentation and no copies as they grow.
//
// Storage per layer, keys and values alike: (n_blocks, NKV, block_size, D), NKV the key/value heads
// this tensor-parallel rank holds. Token t of a sequence lives in block table[t / block_size] at
// slot t % block_size. A block holds each head's tokens together (one page of block_size * D
// values), so attention, which runs per head, streams whole pages.
//
// Element type: f32, or bf16 (half the bytes: twice the tokens in a budget, half the memory traffic
// of decode attention). bf16 keys and values are rounded to nearest even when written and widened
// exactly when read (core/cpu/attention.h).
//
// Blocks are handed out by a BlockAllocator: a free list and a reference count per block (a block
// shared by two sequences, e.g. a common prompt prefix, is freed when its last owner releases it).
//
// Prefix sharing: every full block a sequence has computed is indexed by its tokens and the block
// before it; a new sequence whose prompt starts with the same tokens takes those blocks (one more
// reference each) instead of computing them. A shared block is never written again: a sequence
// writes only past its cached tokens, and only full blocks are shared. Keys and values depend on
// the tokens and positions alone (the forward is batch-invariant), so sharing changes no result.
// A block leaves the index when its last owner frees it.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tessera::serve {

// Hands out block ids in [0, n_blocks). Allocation takes the most recently freed block first
// (its memory is warm in the cache hierarchy).
class BlockAllocator {
 public:
  explicit BlockAllocator(int64_t n_blocks);
  int64_t n_blocks() const { return static_cast<int64_t>(refs_.size()); }
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  // A free block with a reference count of one; throws tessera::Error when none is free (callers
  // ask free_blocks() first: running out is the scheduler's to handle, by preemption).
  int32_t allocate();
  void retain(int32_t block);   // one more owner
  void release(int32_t block);  // one owner fewer; free at zero
  int32_t ref_count(int32_t block) const;

 private:
  std::vector<int32_t> refs_;  // (n_blocks)
  std::vector<int32_t> free_;  // stack of free ids
};

// The blocks of one sequence, in token order, and how many tokens have their keys and values
// written.
struct BlockTable {
  std::vector<int32_t> blocks;
  int64_t n_cached = 0;  // tokens [0, n_cached) hold valid keys and values
};

// The cache's element type asked for by name: "f32" or "bf16", or "auto" (nullopt: the engine
// chooses); throws tessera::Error naming the three otherwise.
std::optional<core::DType> parse_kv_dtype(const std::string& text);

struct KvCacheShape {
  int64_t n_layer = 0;
  int64_t n_kv_head = 0;  // on this rank
  int64_t head_dim = 0;
  int64_t block_size = 16;
  core::DType dtype = core::DType::f32;  // f32 or bf16
  // Bytes of one block over all layers, keys and values.
  int64_t block_bytes() const {
    return 2 * n_layer * block_size * n_kv_head * head_dim * static_cast<int64_t>(core::dtype_size(dtype));
  }
};

// Blocks that fit a budget of `bytes` (at least one).
int64_t blocks_for_budget(const KvCacheShape& shape, int64_t bytes);
// Blocks a sequence of n tokens needs.
int64_t blocks_for_tokens(int64_t n, int64_t block_size);

class KvCache {
 public:
  // Allocates and zero-fills the storage once (the pages are then resident for every step).
  KvCache(const KvCacheShape& shape, int64_t n_blocks);
  const KvCacheShape& shape() const { return shape_; }
  BlockAllocator& allocator() { return allocator_; }
  const BlockAllocator& allocator() const { return allocator_; }
  int64_t n_blocks() const { return allocator_.n_blocks(); }

  // The (block_size, D) keys / values of one kv head in a block: layer, block id, head; E is the
  // element type (float for an f32 cache, core::bf16 for a bf16 one; checked).
  template <typename E>
  E* key(int64_t layer, int32_t block, int64_t head) const {
    return k_.data<E>() + page_offset(layer, block, head);
  }
  template <typename E>
  E* value(int64_t layer, int32_t block, int64_t head) const {
    return v_.data<E>() + page_offset(layer, block, head);
  }

  // Grows `table` to hold n tokens (allocating blocks); false, changing nothing, when the
  // allocator has too few free blocks.
  bool reserve(BlockTable& table, int64_t n);
  // Releases every block of `table` and empties it.
  void free(BlockTable& table);

  // An empty table takes the indexed blocks that hold tokens' longest prefix of whole blocks,
  // covering at most `limit` tokens; returns the tokens it now has cached.
  int64_t share_prefix(BlockTable& table, const std::vector<int32_t>& tokens, int64_t limit);
  // Indexes the full blocks of table's cached tokens (tokens: the sequence's tokens).
  void index_full_blocks(const BlockTable& table, const std::vector<int32_t>& tokens);
  int64_t indexed_blocks() const { return static_cast<int64_t>(index_.size()); }

 private:
  int64_t page_offset(int64_t layer, int32_t block, int64_t head) const {
    return ((layer * n_blocks() + block) * shape_.n_kv_head + head) * shape_.block_size * shape_.head_dim;
  }
  // The index key of block i of a table: the block before it and the block's tokens.
  std::string block_key(const BlockTable& table, const std::vector<int32_t>& tokens, size_t i) const;

  KvCacheShape shape_;
  BlockAllocator allocator_;
  std::unordered_map<std::string, int32_t> index_;  // key -> block
  std::vector<std::string> key_of_;                 // (n_blocks) a block's key; empty: not indexed
  core::Tensor k_, v_;  // (n_layer, n_blocks, NKV, block_size, D) each
};

}  // namespace tessera::serve
