#include "interchange/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "core/error.h"
#include "interchange/gguf_quant.h"

namespace tessera::interchange {
namespace {

using gguf::ValueType;

// A bounds-checked cursor over the file's bytes.
class Cursor {
 public:
  Cursor(const std::vector<uint8_t>& bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string(const char* what) {
    const auto n = get<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  uint64_t pos() const { return pos_; }

 private:
  void need(uint64_t n, const char* what) const {
    TESSERA_CHECK(n <= bytes_.size() - pos_, "{}: truncated GGUF file: {} needs {} bytes at offset {}, the file "
                  "has {}", path_, what, n, pos_, bytes_.size());
  }
  const std::vector<uint8_t>& bytes_;
  const std::string& path_;
  uint64_t pos_ = 0;
};

GgufValue read_value(Cursor& c, ValueType type, const std::string& path, const std::string& key, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case ValueType::u8: v.value = uint64_t{c.get<uint8_t>("a u8 value")}; break;
    case ValueType::u16: v.value = uint64_t{c.get<uint16_t>("a u16 value")}; break;
    case ValueType::u32: v.value = uint64_t{c.get<uint32_t>("a u32 value")}; break;
    case ValueType::u64: v.value = c.get<uint64_t>("a u64 value"); break;
    case ValueType::i8: v.value = int64_t{c.get<int8_t>("an i8 value")}; break;
    case ValueType::i16: v.value = int64_t{c.get<int16_t>("an i16 value")}; break;
    case ValueType::i32: v.value = int64_t{c.get<int32_t>("an i32 value")}; break;
    case ValueType::i64: v.value = c.get<int64_t>("an i64 value"); break;
    case ValueType::f32: v.value = double{c.get<float>("an f32 value")}; break;
    case ValueType::f64: v.value = c.get<double>("an f64 value"); break;
    case ValueType::boolean: {
      const auto b = c.get<uint8_t>("a bool value");
      TESSERA_CHECK(b <= 1, "{}: key '{}': bool value {} is not 0 or 1", path, key, b);
      v.value = b == 1;
      break;
    }
    case ValueType::string: v.value = c.string("a string value"); break;
    case ValueType::array: {
      TESSERA_CHECK(depth == 0, "{}: key '{}': nested arrays are not supported", path, key);
      const auto raw = c.get<uint32_t>("an array type");
      TESSERA_CHECK(raw <= static_cast<uint32_t>(ValueType::f64), "{}: key '{}': unknown array element type {}",
                    path, key, raw);
      v.element_type = static_cast<ValueType>(raw);
      const auto n = c.get<uint64_t>("an array length");
      // Every element takes at least one byte: a count beyond the file is corrupt, not a huge array.
      TESSERA_CHECK(n <= std::numeric_limits<uint32_t>::max(), "{}: key '{}': array of {} elements", path, key, n);
      std::vector<GgufValue> items;
      items.reserve(std::min<uint64_t>(n, 1u << 20));
      for (uint64_t i = 0; i < n; ++i) items.push_back(read_value(c, v.element_type, path, key, depth + 1));
      v.value = std::move(items);
      break;
    }
    default: TESSERA_FAIL("{}: key '{}': unknown value type {}", path, key, static_cast<uint32_t>(type));
  }
  return v;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in, "cannot open {}", path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  TESSERA_CHECK(in, "cannot read {}", path);
  return bytes;
}

}  // namespace

uint64_t GgufValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&value)) return *u;
  if (const auto* i = std::get_if<int64_t>(&value); i && *i >= 0) return static_cast<uint64_t>(*i);
  TESSERA_FAIL("GGUF value of type {} is not an unsigned integer", gguf::value_type_name(type));
}

int64_t GgufValue::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&value);
      u && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(*u);
  }
  TESSERA_FAIL("GGUF value of type {} is not an integer", gguf::value_type_name(type));
}

double GgufValue::as_float() const {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  TESSERA_FAIL("GGUF value of type {} is not a float", gguf::value_type_name(type));
}

bool GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  TESSERA_FAIL("GGUF value of type {} is not a bool", gguf::value_type_name(type));
}

const std::string& GgufValue::as_string() const {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  TESSERA_FAIL("GGUF value of type {} is not a string", gguf::value_type_name(type));
}

const std::vector<GgufValue>& GgufValue::as_array() const {
  if (const auto* a = std::get_if<std::vector<GgufValue>>(&value)) return *a;
  TESSERA_FAIL("GGUF value of type {} is not an array", gguf::value_type_name(type));
}

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufFile GgufFile::read(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  f.bytes_ = read_all(path);
  Cursor c(f.bytes_, path);
  TESSERA_CHECK(c.get<uint32_t>("the magic") == gguf::kMagic, "{}: not a GGUF file (bad magic)", path);
  f.version_ = c.get<uint32_t>("the version");
  TESSERA_CHECK(f.version_ == gguf::kVersion, "{}: GGUF version {} is not supported (only {})", path, f.version_,
                gguf::kVersion);
  const auto n_tensors = c.get<uint64_t>("the tensor count");
  const auto n_kv = c.get<uint64_t>("the key/value count");
  // Each key/value and tensor info takes more than 8 bytes: larger counts cannot fit the file.
  TESSERA_CHECK(n_tensors <= f.bytes_.size() / 8 && n_kv <= f.bytes_.size() / 8,
                "{}: {} tensors and {} key/values cannot fit a file of {} bytes", path, n_tensors, n_kv,
                f.bytes_.size());
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string("a key");
    const auto raw = c.get<uint32_t>("a value type");
    TESSERA_CHECK(raw <= static_cast<uint32_t>(ValueType::f64), "{}: key '{}': unknown value type {}", path, key, raw);
    GgufValue v = read_value(c, static_cast<ValueType>(raw), path, key, 0);
    TESSERA_CHECK(f.kv_.emplace(key, std::move(v)).second, "{}: key '{}' appears twice", path, key);
  }
  uint64_t alignment = gguf::kAlignment;
  if (f.has("general.alignment")) {
    alignment = f.at("general.alignment").as_uint();
    TESSERA_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0, "{}: general.alignment {} is not a power "
                  "of two", path, alignment);
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.string("a tensor name");
    TESSERA_CHECK(names.insert(t.name).second, "{}: tensor '{}' appears twice", path, t.name);
    const auto n_dims = c.get<uint32_t>("a tensor's dim count");
    TESSERA_CHECK(n_dims >= 1 && n_dims <= gguf::kMaxDims, "{}: tensor '{}' has {} dims", path, t.name, n_dims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = c.get<uint64_t>("a tensor dim");
      TESSERA_CHECK(dim > 0 && dim <= f.bytes_.size() && numel <= f.bytes_.size() / dim,
                    "{}: tensor '{}' has an impossible dim {}", path, t.name, dim);
      numel *= dim;
      t.dims.push_back(static_cast<int64_t>(dim));
    }
    const auto type = c.get<uint32_t>("a tensor type");
    TESSERA_CHECK(gguf::is_known_tensor_type(type), "{}: tensor '{}' has ggml type {}, which Tessera does not read "
                  "(f32, f16, bf16, q8_0)", path, t.name, type);
    t.type = static_cast<gguf::TensorType>(type);
    t.offset = c.get<uint64_t>("a tensor offset");
    TESSERA_CHECK(t.offset % alignment == 0, "{}: tensor '{}' offset {} is not aligned to {}", path, t.name,
                  t.offset, alignment);
    f.tensors_.push_back(std::move(t));
  }
  f.data_start_ = (c.pos() + alignment - 1) / alignment * alignment;
  TESSERA_CHECK(f.data_start_ <= f.bytes_.size(), "{}: truncated before the data section", path);
  const uint64_t data_size = f.bytes_.size() - f.data_start_;
  for (const auto& t : f.tensors_) {
    TESSERA_CHECK(t.type != gguf::TensorType::q8_0 || t.dims[0] % gguf::kQ8Block == 0,
                  "{}: q8_0 tensor '{}' has rows of {} elements, not a multiple of {}", path, t.name, t.dims[0],
                  gguf::kQ8Block);
    const uint64_t size = gguf::tensor_bytes(t.type, t.numel());
    TESSERA_CHECK(t.offset <= data_size && size <= data_size - t.offset, "{}: tensor '{}' ({} bytes at {}) lies "
                  "beyond the end of the data section ({} bytes)", path, t.name, size, t.offset, data_size);
  }
  return f;
}

const GgufValue& GgufFile::at(const std::string& key) const {
  const auto it = kv_.find(key);
  TESSERA_CHECK(it != kv_.end(), "{}: no key '{}'", path_, key);
  return it->second;
}

const GgufTensorInfo& GgufFile::tensor(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return t;
  }
  TESSERA_FAIL("{}: no tensor '{}'", path_, name);
}

bool GgufFile::has_tensor(const std::string& name) const {
  return std::any_of(tensors_.begin(), tensors_.end(), [&](const GgufTensorInfo& t) { return t.name == name; });
}

std::vector<float> GgufFile::read_f32(const std::string& name) const {
  const GgufTensorInfo& t = tensor(name);
  const uint64_t size = gguf::tensor_bytes(t.type, t.numel());
  return gguf_decode(std::span<const uint8_t>(bytes_.data() + data_start_ + t.offset, size), t.type, t.numel());
}

}  // namespace tessera::interchange
