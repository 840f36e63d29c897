#pragma once
// safetensors files (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
// header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then
// the data; offsets count from the end of the header.
//
// The reader treats the file as untrusted input and checks the header before any data is read:
// the length lies within the file, the JSON is well formed, every dtype is a safetensors dtype,
// shapes are non-negative integers, offsets lie within the data, tensors do not overlap, and each
// tensor's bytes are the dtype's size times the product of its shape. Each violation is a
// tessera::Error naming the file and the tensor. Data of F32, F16 and BF16 is read (to fp32 by
// read_f32); other dtypes are an error when read.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tessera::interchange {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;   // "F32", "BF16", ...
  core::Shape shape;
  uint64_t begin = 0;  // byte range [begin, end) in the data section
  uint64_t end = 0;
};

// Writes CPU tensors of dtype f32, f16 or bf16 (any layout) in the order given; names must be
// unique. The header is padded with spaces to a multiple of 8 bytes. Written to `path`.tmp and
// renamed.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, core::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

class SafetensorsReader {
 public:
  // Reads and validates the header (not the data).
  explicit SafetensorsReader(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in header order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  const SafetensorsEntry& entry(const std::string& name) const;  // throws naming the file

  // The tensor converted to fp32 (F32 bit-exact; F16 and BF16 widened exactly).
  core::Tensor read_f32(const std::string& name) const;

 private:
  std::string path_;
  uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace tessera::interchange
