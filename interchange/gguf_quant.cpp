#include "interchange/gguf_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

namespace tessera::interchange {
namespace {

constexpr float kHalfMax = 65504.0f;  // the largest finite binary16

void encode_q8_0_block(const float* x, uint8_t* out) {
  float amax = 0;
  for (int64_t j = 0; j < gguf::kQ8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
  TESSERA_CHECK(amax / 127.0f <= kHalfMax, "q8_0: a block holds {}, whose scale overflows fp16", amax);
  const uint16_t d_bits = core::float_to_half_bits(amax / 127.0f);
  std::memcpy(out, &d_bits, 2);
  // Quantise with the scale as stored, so that decoding q * d undoes exactly what was done.
  const float d = core::half_bits_to_float(d_bits);
  const float inv = d > 0 ? 1.0f / d : 0.0f;
  for (int64_t j = 0; j < gguf::kQ8Block; ++j) {
    const float q = std::clamp(std::nearbyint(x[j] * inv), -127.0f, 127.0f);
    out[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
}

void decode_q8_0_block(const uint8_t* in, float* x) {
  uint16_t d_bits;
  std::memcpy(&d_bits, in, 2);
  const float d = core::half_bits_to_float(d_bits);
  for (int64_t j = 0; j < gguf::kQ8Block; ++j) x[j] = static_cast<float>(static_cast<int8_t>(in[2 + j])) * d;
}

}  // namespace

std::vector<uint8_t> gguf_encode(std::span<const float> values, gguf::TensorType type) {
  const auto n = static_cast<int64_t>(values.size());
  std::vector<uint8_t> out(gguf::tensor_bytes(type, n));
  switch (type) {
    case gguf::TensorType::f32:
      std::memcpy(out.data(), values.data(), out.size());
      break;
    case gguf::TensorType::f16:
      for (int64_t i = 0; i < n; ++i) {
        TESSERA_CHECK(std::fabs(values[i]) <= kHalfMax, "f16: value {} is outside the fp16 range", values[i]);
        const uint16_t h = core::float_to_half_bits(values[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      break;
    case gguf::TensorType::bf16:  // round to nearest even, as ggml's fp32 -> bf16
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t b = core::bf16(values[i]).bits;
        std::memcpy(out.data() + 2 * i, &b, 2);
      }
      break;
    case gguf::TensorType::q8_0:
      for (int64_t b = 0; b < n / gguf::kQ8Block; ++b) {
        encode_q8_0_block(values.data() + b * gguf::kQ8Block, out.data() + b * gguf::kQ8BlockBytes);
      }
      break;
  }
  return out;
}

std::vector<float> gguf_decode(std::span<const uint8_t> bytes, gguf::TensorType type, int64_t n) {
  TESSERA_CHECK(bytes.size() == gguf::tensor_bytes(type, n), "{} bytes of {} data for {} elements, expected {}",
                bytes.size(), gguf::tensor_type_name(type), n, gguf::tensor_bytes(type, n));
  std::vector<float> out(static_cast<size_t>(n));
  switch (type) {
    case gguf::TensorType::f32:
      std::memcpy(out.data(), bytes.data(), bytes.size());
      break;
    case gguf::TensorType::f16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * i, 2);
        out[i] = core::half_bits_to_float(h);
      }
      break;
    case gguf::TensorType::bf16:
      for (int64_t i = 0; i < n; ++i) {
        core::bf16 b;
        std::memcpy(&b.bits, bytes.data() + 2 * i, 2);
        out[i] = static_cast<float>(b);
      }
      break;
    case gguf::TensorType::q8_0:
      for (int64_t b = 0; b < n / gguf::kQ8Block; ++b) {
        decode_q8_0_block(bytes.data() + b * gguf::kQ8BlockBytes, out.data() + b * gguf::kQ8Block);
      }
      break;
  }
  return out;
}

}  // namespace tessera::interchange
