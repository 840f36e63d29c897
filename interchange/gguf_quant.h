#pragma once
// Encoding fp32 values as GGUF tensor data and decoding them back.
//   f32:  the values as they are
//   f16:  IEEE binary16, round to nearest even (core::f16)
//   q8_0: blocks of 32 values: an fp16 scale d = max|x| / 127 and 32 int8 q = round(x / d), so a
//         value comes back as q * d. With d the fp16-rounded scale, |x - q d| <= d / 2 + 127 |e|,
//         e = d - max|x| / 127 the scale's own rounding (relative 2^-11; 2^-25 absolute when d is
//         an fp16 subnormal, below 2^-14): values whose quotient rounds past 127 are clamped.
#include <cstdint>
#include <span>
#include <vector>

#include "interchange/gguf_format.h"

namespace tessera::interchange {

std::vector<uint8_t> gguf_encode(std::span<const float> values, gguf::TensorType type);
// `n` elements from `bytes` (exactly tensor_bytes(type, n) of them).
std::vector<float> gguf_decode(std::span<const uint8_t> bytes, gguf::TensorType type, int64_t n);

}  // namespace tessera::interchange
