#pragma once
// Reads a GGUF v3 file: its key/values, tensor infos and tensor data (decoded to fp32). Used to
// import models (gguf_import.h), check what the exporter wrote and inspect files. The file is untrusted input: every length,
// count and offset is checked against the file, and a violation is a tessera::Error naming the file.
// Reads f32, f16 and q8_0 tensors; other tensor types are an error.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "interchange/gguf_format.h"

namespace tessera::interchange {

struct GgufValue {
  gguf::ValueType type = gguf::ValueType::u32;
  gguf::ValueType element_type = gguf::ValueType::u32;  // arrays only
  std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<GgufValue>> value;

  // Each throws tessera::Error when the value is of another kind.
  uint64_t as_uint() const;  // u8, u16, u32, u64
  int64_t as_int() const;    // i8 ... i64, and unsigned types that fit
  double as_float() const;   // f32, f64
  bool as_bool() const;
  const std::string& as_string() const;
  const std::vector<GgufValue>& as_array() const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] is contiguous
  gguf::TensorType type = gguf::TensorType::f32;
  uint64_t offset = 0;        // from the start of the data section
  int64_t numel() const;
};

class GgufFile {
 public:
  static GgufFile read(const std::string& path);

  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& kv() const { return kv_; }
  const GgufValue& at(const std::string& key) const;  // throws naming the key and the file
  bool has(const std::string& key) const { return kv_.count(key) > 0; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo& tensor(const std::string& name) const;  // throws for an unknown name
  bool has_tensor(const std::string& name) const;
  // The tensor's elements decoded to fp32, in file order (dims[0] fastest).
  std::vector<float> read_f32(const std::string& name) const;

 private:
  std::string path_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::vector<uint8_t> bytes_;  // the whole file
  uint64_t data_start_ = 0;
};

}  // namespace tessera::interchange
