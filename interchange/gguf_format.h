#pragma once
// GGUF (version 3), the file format of llama.cpp: the numbers both the writer and the reader use.
//
// Layout, all little-endian:
//   u32 magic "GGUF", u32 version, u64 tensor count, u64 key/value count
//   key/value pairs: string key, u32 value type, value (arrays: u32 element type, u64 count, elements)
//   tensor infos: string name, u32 n_dims, u64 dims[n_dims] (ne0 first: the contiguous axis), u32
//                 tensor type, u64 offset of the data from the start of the data section
//   padding to the alignment, then the data section (each tensor aligned)
// A string is a u64 byte length and the bytes (no terminator).
#include <bit>
#include <cstdint>
#include <string_view>

namespace tessera::interchange::gguf {

static_assert(std::endian::native == std::endian::little, "GGUF I/O assumes a little-endian host");

constexpr uint32_t kMagic = 0x46554747;  // the bytes "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;
constexpr uint64_t kAlignment = 32;      // general.alignment's default; the writer uses it
constexpr size_t kMaxTensorName = 63;    // llama.cpp's GGML_MAX_NAME (64) less the terminator
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS

enum class ValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12,
};

// The ggml tensor types Tessera writes and reads (numbers from ggml.h).
enum class TensorType : uint32_t { f32 = 0, f16 = 1, q8_0 = 8, bf16 = 30 };

constexpr int64_t kQ8Block = 32;  // q8_0: 32 weights per block, one fp16 scale + 32 int8
constexpr size_t kQ8BlockBytes = 2 + kQ8Block;

std::string_view value_type_name(ValueType t);
std::string_view tensor_type_name(TensorType t);
// "f32", "f16", "bf16", "q8_0" -> the type; anything else throws tessera::Error.
TensorType tensor_type_from_name(std::string_view name);
// Whether `raw` is a tensor type this code knows.
bool is_known_tensor_type(uint32_t raw);
// Bytes of `n` elements of type t (q8_0: n a multiple of 32, else throws).
uint64_t tensor_bytes(TensorType t, int64_t n);

}  // namespace tessera::interchange::gguf
