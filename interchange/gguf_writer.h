#pragma once
// Builds a GGUF v3 file in memory (key/values, tensor infos, tensor data) and writes it.
// Keys and tensor names must be unique; tensor data must match the dims and type. The file is
// written to `path`.tmp and renamed, so a failed write never leaves a truncated file at `path`.
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "interchange/gguf_format.h"

namespace tessera::interchange {

class GgufWriter {
 public:
  void add_u32(const std::string& key, uint32_t value);
  void add_i32(const std::string& key, int32_t value);
  void add_f32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_string(const std::string& key, const std::string& value);
  void add_strings(const std::string& key, const std::vector<std::string>& values);
  void add_i32s(const std::string& key, const std::vector<int32_t>& values);

  // dims in ggml order: dims[0] is the contiguous axis (a row-major (out, in) matrix is [in, out]).
  // `data` holds the encoded elements (gguf_quant.h), tensor_bytes(type, product of dims) bytes.
  void add_tensor(const std::string& name, const std::vector<int64_t>& dims, gguf::TensorType type,
                  std::vector<uint8_t> data);

  void write(const std::string& path) const;

 private:
  struct TensorEntry {
    std::string name;
    std::vector<int64_t> dims;
    gguf::TensorType type;
    std::vector<uint8_t> data;
  };
  void begin_kv(const std::string& key, gguf::ValueType type);

  std::vector<uint8_t> kv_bytes_;  // the serialised key/value section
  size_t kv_count_ = 0;
  std::unordered_set<std::string> keys_, tensor_names_;
  std::vector<TensorEntry> tensors_;
};

}  // namespace tessera::interchange
