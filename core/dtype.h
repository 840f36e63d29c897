#pragma once
// Element types and runtime dtype dispatch. Precision is a runtime property of a tensor, never a
// compile-time switch: kernels are templates instantiated per type, and callers dispatch once.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/error.h"

namespace tessera::core {

// f64 exists for reference computations (gradient checks, oracles); models train in f32/bf16.
enum class DType : uint8_t { f32, f64, bf16, f16, i8, i32 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::f64: return 8;
    case DType::f32:
    case DType::i32: return 4;
    case DType::bf16:
    case DType::f16: return 2;
    case DType::i8: return 1;
  }
  return 0;
}

std::string_view dtype_name(DType t);
DType dtype_from_name(std::string_view name);  // "f32", "bf16", ...; throws tessera::Error otherwise

// bfloat16: the upper half of an IEEE binary32; conversion rounds to nearest even.
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  explicit bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40u);  // keep NaN a (quiet) NaN
    } else {
      bits = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
  }
  explicit operator float() const {
    const uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

// IEEE binary16 conversions in portable code (round to nearest even; subnormals, infinities and
// NaN kept), usable from host code compiled by nvcc too.
uint16_t float_to_half_bits(float f);
float half_bits_to_float(uint16_t h);

struct f16 {
  uint16_t bits = 0;
  f16() = default;
  explicit f16(float f) : bits(float_to_half_bits(f)) {}
  explicit operator float() const { return half_bits_to_float(bits); }
};

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }
template <> constexpr DType dtype_of<f16>() { return DType::f16; }
template <> constexpr DType dtype_of<int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }

// Calls fn.template operator()<T>() for the floating types the CPU kernels compute in (f32, f64):
//   dispatch_float(t.dtype(), [&]<typename T>() { kernel<T>(t.data<T>(), ...); });
template <typename Fn>
decltype(auto) dispatch_float(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn.template operator()<float>();
    case DType::f64: return fn.template operator()<double>();
    default: TESSERA_FAIL("no CPU kernel computes in dtype {}", dtype_name(t));
  }
}

// The same over every dtype (copies, fills, I/O).
template <typename Fn>
decltype(auto) dispatch_any(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn.template operator()<float>();
    case DType::f64: return fn.template operator()<double>();
    case DType::bf16: return fn.template operator()<bf16>();
    case DType::f16: return fn.template operator()<f16>();
    case DType::i8: return fn.template operator()<int8_t>();
    case DType::i32: return fn.template operator()<int32_t>();
  }
  TESSERA_FAIL("unknown dtype {}", static_cast<int>(t));
}

}  // namespace tessera::core
