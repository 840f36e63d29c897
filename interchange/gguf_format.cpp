#include "interchange/gguf_format.h"

#include "core/error.h"

namespace tessera::interchange::gguf {

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::u8: return "u8";
    case ValueType::i8: return "i8";
    case ValueType::u16: return "u16";
    case ValueType::i16: return "i16";
    case ValueType::u32: return "u32";
    case ValueType::i32: return "i32";
    case ValueType::f32: return "f32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::u64: return "u64";
    case ValueType::i64: return "i64";
    case ValueType::f64: return "f64";
  }
  return "unknown";
}

std::string_view tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::f32: return "f32";
    case TensorType::f16: return "f16";
    case TensorType::bf16: return "bf16";
    case TensorType::q8_0: return "q8_0";
  }
  return "unknown";
}

TensorType tensor_type_from_name(std::string_view name) {
  if (name == "f32") return TensorType::f32;
  if (name == "f16") return TensorType::f16;
  if (name == "bf16") return TensorType::bf16;
  if (name == "q8_0") return TensorType::q8_0;
  TESSERA_FAIL("unknown GGUF tensor type '{}' (expected f32, f16, bf16 or q8_0)", name);
}

bool is_known_tensor_type(uint32_t raw) {
  return raw == static_cast<uint32_t>(TensorType::f32) || raw == static_cast<uint32_t>(TensorType::f16) ||
         raw == static_cast<uint32_t>(TensorType::bf16) ||
         raw == static_cast<uint32_t>(TensorType::q8_0);
}

uint64_t tensor_bytes(TensorType t, int64_t n) {
  TESSERA_CHECK(n >= 0, "negative element count {}", n);
  const auto un = static_cast<uint64_t>(n);
  switch (t) {
    case TensorType::f32: return 4 * un;
    case TensorType::f16:
    case TensorType::bf16: return 2 * un;
    case TensorType::q8_0:
      TESSERA_CHECK(n % kQ8Block == 0, "q8_0 needs a multiple of {} elements, got {}", kQ8Block, n);
      return un / kQ8Block * kQ8BlockBytes;
  }
  TESSERA_FAIL("unknown GGUF tensor type {}", static_cast<uint32_t>(t));
}

}  // namespace tessera::interchange::gguf
