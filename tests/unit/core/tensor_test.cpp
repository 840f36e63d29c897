// Tensor, dtype and arena basics: shapes, views sharing storage, conversions, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/arena.h"
#include "core/tensor.h"

using namespace tessera::core;

TEST(Tensor, EmptyZerosShapeStrides) {
  Tensor t = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.item({1, 2, 3}), 0.0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::zeros({4, 5});
  Tensor row = t.select(0, 2);  // (5)
  row.fill_(7.0);
  EXPECT_EQ(t.item({2, 4}), 7.0);
  EXPECT_EQ(t.item({1, 4}), 0.0);
  Tensor col = t.slice(1, 1, 2);  // (4, 2), not contiguous
  EXPECT_FALSE(col.is_contiguous());
  col.fill_(3.0);
  EXPECT_EQ(t.item({0, 1}), 3.0);
  EXPECT_EQ(t.item({0, 3}), 0.0);
  EXPECT_EQ(t.item({2, 0}), 7.0);
  Tensor r = t.reshape({2, -1});
  EXPECT_EQ(r.shape(), (Shape{2, 10}));
  EXPECT_EQ(r.item({1, 1}), 3.0);  // element (2, 1)
  EXPECT_EQ(r.storage(), t.storage());
}

TEST(Tensor, CloneAndConvert) {
  Tensor t = Tensor::empty({3}, DType::f32);
  t.set({0}, 1.5);
  t.set({1}, -2.25);
  t.set({2}, 1.0 / 3.0);
  Tensor b = t.to(DType::bf16);
  EXPECT_EQ(b.item({0}), 1.5);
  EXPECT_EQ(b.item({1}), -2.25);
  EXPECT_NEAR(b.item({2}), 1.0 / 3.0, 1.0 / 256);  // 8 significant bits
  EXPECT_NE(b.item({2}), t.item({2}));
  Tensor h = t.to(DType::f16);
  EXPECT_NEAR(h.item({2}), 1.0 / 3.0, 1e-3);
  Tensor i = t.to(DType::i32);
  EXPECT_EQ(i.item({1}), -2.0);  // truncation, as static_cast
  Tensor c = t.clone();
  c.set({0}, 9.0);
  EXPECT_EQ(t.item({0}), 1.5);
}

TEST(Tensor, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
  EXPECT_EQ(static_cast<float>(bf16(1.0f + 0x1.0p-8f)), 1.0f);
  EXPECT_EQ(static_cast<float>(bf16(1.0f + 0x1.8p-8f)), 1.0f + 0x1.0p-7f);
}

TEST(Tensor, ErrorsAreExceptions) {
  Tensor t = Tensor::zeros({2, 3});
  EXPECT_THROW(t.data<double>(), tessera::Error);
  EXPECT_THROW(t.reshape({4, 2}), tessera::Error);
  EXPECT_THROW(t.slice(1, 2, 2), tessera::Error);
  EXPECT_THROW(t.item({2, 0}), tessera::Error);
  EXPECT_THROW(t.slice(0, 0, 1).slice(1, 0, 2).reshape({2}), tessera::Error);
  EXPECT_THROW(Tensor::empty({-1}), tessera::Error);
  EXPECT_THROW(dtype_from_name("f8"), tessera::Error);
  EXPECT_EQ(dtype_from_name("bf16"), DType::bf16);
}

TEST(Tensor, DispatchFloat) {
  Tensor t = Tensor::zeros({2}, DType::f64);
  const size_t size = dispatch_float(t.dtype(), [&]<typename T>() { return sizeof(T); });
  EXPECT_EQ(size, 8u);
  EXPECT_THROW(dispatch_float(DType::i8, []<typename T>() { return 0; }), tessera::Error);
}

TEST(Arena, AllocatesAlignedAndGrowsThenCoalesces) {
  Arena arena;
  Tensor a = arena.alloc({10});  // 40 bytes, padded to 64
  Tensor b = arena.alloc({3}, DType::f64);
  EXPECT_EQ(static_cast<char*>(b.raw()) - static_cast<char*>(a.raw()), 64);
  EXPECT_EQ(arena.used_bytes(), 128u);
  a.fill_(1.0);
  Tensor big = arena.alloc({1 << 20});  // does not fit the first 1 MiB block
  big.fill_(2.0);
  EXPECT_EQ(a.item({9}), 1.0);  // earlier tensors stay valid
  const size_t used = arena.used_bytes();
  arena.reset();
  EXPECT_EQ(arena.used_bytes(), 0u);
  EXPECT_GE(arena.capacity_bytes(), used);
  Tensor again = arena.alloc({1 << 20});
  Tensor small = arena.alloc({10});  // same single block after coalescing
  EXPECT_EQ(small.storage(), again.storage());
  Tensor z = arena.zeros({5});
  EXPECT_EQ(z.item({4}), 0.0);
}

TEST(Tensor, HalfConversionsRoundTripAndRound) {
  EXPECT_EQ(static_cast<float>(f16(1.0f / 3.0f)), 0.333251953125f);  // nearest binary16
  EXPECT_EQ(static_cast<float>(f16(65504.0f)), 65504.0f);             // largest finite
  EXPECT_TRUE(std::isinf(static_cast<float>(f16(65520.0f))));         // rounds up to inf
  EXPECT_EQ(static_cast<float>(f16(0x1.0p-24f)), 0x1.0p-24f);         // smallest subnormal
  EXPECT_EQ(static_cast<float>(f16(0x1.8p-24f)), 0x1.0p-23f);         // tie to even (2 * 2^-24)
  EXPECT_EQ(static_cast<float>(f16(0x1.0p-26f)), 0.0f);
  EXPECT_EQ(static_cast<float>(f16(-2.5f)), -2.5f);
  EXPECT_EQ(static_cast<float>(f16(1.0f + 0x1.0p-11f)), 1.0f);        // tie to even
  EXPECT_EQ(static_cast<float>(f16(1.0f + 0x1.8p-11f)), 1.0f + 0x1.0p-10f);
  EXPECT_TRUE(std::isnan(static_cast<float>(f16(std::nanf("")))));
  for (uint32_t bits = 0; bits < 0x7c00u; ++bits) {  // every finite half survives a round trip
    f16 h;
    h.bits = static_cast<uint16_t>(bits);
    ASSERT_EQ(f16(static_cast<float>(h)).bits, h.bits) << bits;
  }
}
