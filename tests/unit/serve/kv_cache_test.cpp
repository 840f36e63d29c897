// The paged KV cache: block allocation with reference counts, block tables growing across block
// boundaries, a budget in bytes turned into blocks, and slots that never overlap.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "serve/kv_cache.h"

namespace tessera::serve {
namespace {

KvCacheShape small_shape() { return {.n_layer = 2, .n_kv_head = 2, .head_dim = 4, .block_size = 4}; }

TEST(BlockAllocator, HandsOutEveryBlockOnceAndReusesFreedOnes) {
  BlockAllocator a(3);
  std::set<int32_t> got{a.allocate(), a.allocate(), a.allocate()};
  EXPECT_EQ(got, (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(a.free_blocks(), 0);
  EXPECT_THROW(a.allocate(), Error);
  a.release(1);
  EXPECT_EQ(a.free_blocks(), 1);
  EXPECT_EQ(a.allocate(), 1);
}

TEST(BlockAllocator, SharedBlockIsFreedByItsLastOwner) {
  BlockAllocator a(2);
  const int32_t b = a.allocate();
  a.retain(b);
  EXPECT_EQ(a.ref_count(b), 2);
  a.release(b);
  EXPECT_EQ(a.free_blocks(), 1);
  a.release(b);
  EXPECT_EQ(a.free_blocks(), 2);
  EXPECT_THROW(a.release(b), Error);
}

TEST(KvCache, BudgetInBytesGivesBlocks) {
  const KvCacheShape s = small_shape();
  EXPECT_EQ(s.block_bytes(), 2 * 2 * 4 * 2 * 4 * 4);  // K and V, 2 layers, 4 tokens, 2 heads of 4 floats
  EXPECT_EQ(blocks_for_budget(s, 10 * s.block_bytes() + 5), 10);
  EXPECT_EQ(blocks_for_budget(s, 1), 1);
  EXPECT_EQ(blocks_for_tokens(0, 4), 0);
  EXPECT_EQ(blocks_for_tokens(4, 4), 1);
  EXPECT_EQ(blocks_for_tokens(5, 4), 2);
}

TEST(KvCache, ReserveGrowsAcrossBlockBoundariesAndRefusesWhenFull) {
  KvCache cache(small_shape(), 3);
  BlockTable a, b;
  EXPECT_TRUE(cache.reserve(a, 5));  // two blocks
  EXPECT_EQ(a.blocks.size(), 2u);
  EXPECT_TRUE(cache.reserve(a, 8));  // still two
  EXPECT_EQ(a.blocks.size(), 2u);
  EXPECT_FALSE(cache.reserve(b, 6));  // needs two, one is free: nothing changes
  EXPECT_TRUE(b.blocks.empty());
  EXPECT_EQ(cache.allocator().free_blocks(), 1);
  cache.free(a);
  EXPECT_TRUE(a.blocks.empty());
  EXPECT_TRUE(cache.reserve(b, 12));
  EXPECT_EQ(cache.allocator().free_blocks(), 0);
}

TEST(KvCache, PagesOfDifferentLayersBlocksAndHeadsDoNotOverlap) {
  const KvCacheShape s = small_shape();
  KvCache cache(s, 2);
  std::set<const float*> seen;
  const int64_t page = s.block_size * s.head_dim;
  for (int64_t l = 0; l < s.n_layer; ++l) {
    for (int32_t b = 0; b < 2; ++b) {
      for (int64_t g = 0; g < s.n_kv_head; ++g) {
        const float* k = cache.key<float>(l, b, g);
        const float* v = cache.value<float>(l, b, g);
        for (int64_t i = 0; i < page; ++i) {
          EXPECT_TRUE(seen.insert(k + i).second);
          EXPECT_TRUE(seen.insert(v + i).second);
        }
      }
    }
  }
}

TEST(KvCache, Bf16BlocksTakeHalfTheBytesAndAreReadAsBf16Only) {
  KvCacheShape s = small_shape();
  const int64_t f32_bytes = s.block_bytes();
  s.dtype = core::DType::bf16;
  EXPECT_EQ(s.block_bytes() * 2, f32_bytes);
  EXPECT_EQ(blocks_for_budget(s, 10 * f32_bytes), 20);
  KvCache cache(s, 2);
  EXPECT_EQ(cache.key<core::bf16>(0, 1, 0) - cache.key<core::bf16>(0, 0, 0), s.n_kv_head * s.block_size * s.head_dim);
  EXPECT_THROW(cache.key<float>(0, 0, 0), Error);
  EXPECT_EQ(parse_kv_dtype("bf16"), core::DType::bf16);
  EXPECT_THROW(parse_kv_dtype("fp8"), Error);
}

}  // namespace
}  // namespace tessera::serve
