#pragma once
// INT8 weights for serving: an (OC, C) f32 weight as int8 values with one f32 scale per output
// channel (symmetric, zero point 0): w[o][k] ~= values[o][k] * scales[o], values in [-127, 127].
//
// Why per output channel and not 32-wide blocks (Q8_0): with one scale per channel, a dot product
// with an int8-quantised activation row is ONE exact integer sum over the whole row, scaled once at
// the end. Integer sums do not depend on their order, so the result is bit for bit the same on every
// ISA (AVX-512 VNNI, AVX-VNNI, portable code, CUDA dp4a), at any thread count and whatever the other
// rows of a batch (batch invariance for free), and the VNNI inner loop is pure vpdpbusd with no
// per-block float work. Storage is 1 byte per weight + 8 bytes per channel (Q8_0: 1.0625 bytes per
// weight). The cost is coarser scales: one outlier widens the step of its whole channel (error up
// to scales[o] / 2 per weight); measured on GPT-2-like data in tests/unit/core/quant_test.cpp.
//
// Layout (what the CPU and CUDA kernels read): OC is padded to a multiple of 64 (OCp) and C to a
// multiple of 4 (Cp), padding holds zeros; values are packed in panels of 16 output channels x 4
// inputs, so that one 64-byte load holds 4 consecutive inputs of 16 channels, which is the operand
// of one vpdpbusd (and a warp's 128-byte load on the GPU):
//   values (OCp/16, Cp/4, 16, 4): values[((o/16)*(Cp/4) + k/4)*64 + (o%16)*4 + k%4] = q[o][k]
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace tessera::core::cpu {

// std::allocator with 64-byte (cache line, zmm) alignment.
template <typename T>
struct CacheAligned {
  using value_type = T;
  CacheAligned() = default;
  template <typename U> CacheAligned(const CacheAligned<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U> bool operator==(const CacheAligned<U>&) const { return true; }
};

inline constexpr int64_t kInt8PanelOC = 16;  // output channels per 64-byte panel row
inline constexpr int64_t kInt8GroupK = 4;    // inputs per channel in one panel row
inline constexpr int64_t kInt8PadOC = 64;    // OC is padded to this (the CPU kernel's tile)
// Largest C whose integer dot products fit int32: 255 * 127 * C < 2^31.
inline constexpr int64_t kInt8MaxC = 65536;

struct QuantizedWeight {
  int64_t OC = 0, C = 0;    // the f32 weight's shape (OC, C)
  int64_t OCp = 0, Cp = 0;  // padded: OCp = OC rounded up to 64, Cp = C rounded up to 4
  std::vector<int8_t, CacheAligned<int8_t>> values;  // (OCp/16, Cp/4, 16, 4) packed, see above
  std::vector<float> scales;                         // (OCp) per channel; 0 for padding
  std::vector<int32_t> wsum;  // (OCp) sum over k of q[o][k]: the activations' zero-point term

  size_t index(int64_t o, int64_t k) const {
    return static_cast<size_t>(((o / kInt8PanelOC) * (Cp / kInt8GroupK) + k / kInt8GroupK) * 64 +
                               (o % kInt8PanelOC) * kInt8GroupK + k % kInt8GroupK);
  }
  int8_t at(int64_t o, int64_t k) const { return values[index(o, k)]; }  // q[o][k]
  size_t bytes() const { return values.size() + 8 * scales.size(); }    // what a GEMV reads
};

// weight (OC, C) f32 row-major -> per-channel symmetric int8: scales[o] = max_k |w[o][k]| / 127,
// q = round-half-even(w / scale) clamped to [-127, 127]. An all-zero channel gets scale 0 and zero
// values (as does one whose max |w| is below 127 * FLT_MIN, flushed). Non-finite weights throw.
QuantizedWeight quantize_weight(const float* weight, int64_t OC, int64_t C);

// -> (OC, C) f32 row-major, q[o][k] * scales[o]: what the int8 kernels compute with.
std::vector<float> dequantize_weight(const QuantizedWeight& w);

}  // namespace tessera::core::cpu
