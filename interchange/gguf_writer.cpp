#include "interchange/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace tessera::interchange {
namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void GgufWriter::begin_kv(const std::string& key, gguf::ValueType type) {
  TESSERA_CHECK(!key.empty(), "GGUF keys must not be empty");
  TESSERA_CHECK(keys_.insert(key).second, "GGUF key '{}' added twice", key);
  put_string(kv_bytes_, key);
  put(kv_bytes_, static_cast<uint32_t>(type));
  ++kv_count_;
}

void GgufWriter::add_u32(const std::string& key, uint32_t value) {
  begin_kv(key, gguf::ValueType::u32);
  put(kv_bytes_, value);
}

void GgufWriter::add_i32(const std::string& key, int32_t value) {
  begin_kv(key, gguf::ValueType::i32);
  put(kv_bytes_, value);
}

void GgufWriter::add_f32(const std::string& key, float value) {
  begin_kv(key, gguf::ValueType::f32);
  put(kv_bytes_, value);
}

void GgufWriter::add_bool(const std::string& key, bool value) {
  begin_kv(key, gguf::ValueType::boolean);
  put<uint8_t>(kv_bytes_, value ? 1 : 0);
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  begin_kv(key, gguf::ValueType::string);
  put_string(kv_bytes_, value);
}

void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& values) {
  begin_kv(key, gguf::ValueType::array);
  put(kv_bytes_, static_cast<uint32_t>(gguf::ValueType::string));
  put<uint64_t>(kv_bytes_, values.size());
  for (const auto& v : values) put_string(kv_bytes_, v);
}

void GgufWriter::add_i32s(const std::string& key, const std::vector<int32_t>& values) {
  begin_kv(key, gguf::ValueType::array);
  put(kv_bytes_, static_cast<uint32_t>(gguf::ValueType::i32));
  put<uint64_t>(kv_bytes_, values.size());
  for (int32_t v : values) put(kv_bytes_, v);
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& dims,
                            gguf::TensorType type, std::vector<uint8_t> data) {
  TESSERA_CHECK(!name.empty() && name.size() <= gguf::kMaxTensorName,
                "GGUF tensor name '{}' must have 1 to {} bytes", name, gguf::kMaxTensorName);
  TESSERA_CHECK(!dims.empty() && dims.size() <= gguf::kMaxDims, "GGUF tensor '{}' has {} dims (1 to {})",
                name, dims.size(), gguf::kMaxDims);
  int64_t n = 1;
  for (int64_t d : dims) {
    TESSERA_CHECK(d > 0, "GGUF tensor '{}' has a non-positive dim {}", name, d);
    n *= d;
  }
  TESSERA_CHECK(type != gguf::TensorType::q8_0 || dims[0] % gguf::kQ8Block == 0,
                "GGUF tensor '{}': q8_0 rows must be a multiple of {} elements, got {}", name,
                gguf::kQ8Block, dims[0]);
  TESSERA_CHECK(data.size() == gguf::tensor_bytes(type, n), "GGUF tensor '{}': {} bytes of data, expected {}",
                name, data.size(), gguf::tensor_bytes(type, n));
  TESSERA_CHECK(tensor_names_.insert(name).second, "GGUF tensor '{}' added twice", name);
  tensors_.push_back({name, dims, type, std::move(data)});
}

void GgufWriter::write(const std::string& path) const {
  std::vector<uint8_t> head;
  put(head, gguf::kMagic);
  put(head, gguf::kVersion);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, kv_count_);
  head.insert(head.end(), kv_bytes_.begin(), kv_bytes_.end());
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const auto& t : tensors_) {
    put_string(head, t.name);
    put(head, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put(head, static_cast<uint64_t>(d));
    put(head, static_cast<uint32_t>(t.type));
    put(head, offset);
    offsets.push_back(offset);
    offset = align_up(offset + t.data.size(), gguf::kAlignment);
  }
  head.resize(align_up(head.size(), gguf::kAlignment), 0);

  const std::string tmp = path + ".tmp";
  {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    TESSERA_CHECK(f, "cannot create {}: {}", tmp, std::strerror(errno));
    auto write_bytes = [&](const void* p, size_t n) {
      TESSERA_CHECK(std::fwrite(p, 1, n, f.get()) == n, "cannot write {}: {}", tmp, std::strerror(errno));
    };
    write_bytes(head.data(), head.size());
    const std::vector<uint8_t> zeros(gguf::kAlignment, 0);
    uint64_t written = 0;
    for (size_t i = 0; i < tensors_.size(); ++i) {
      write_bytes(zeros.data(), offsets[i] - written);
      write_bytes(tensors_[i].data.data(), tensors_[i].data.size());
      written = offsets[i] + tensors_[i].data.size();
    }
    TESSERA_CHECK(std::fflush(f.get()) == 0, "cannot write {}: {}", tmp, std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  TESSERA_CHECK(!ec, "cannot rename {} to {}: {}", tmp, path, ec.message());
}

}  // namespace tessera::interchange
