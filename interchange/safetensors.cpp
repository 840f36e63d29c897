#include "interchange/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tessera::interchange {
namespace {

using J = nlohmann::json;

// The safetensors format's dtypes and their sizes in bytes.
size_t st_dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2},  {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8},  {"U64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::string st_dtype_of(core::DType t) {
  switch (t) {
    case core::DType::f32: return "F32";
    case core::DType::f16: return "F16";
    case core::DType::bf16: return "BF16";
    default: TESSERA_FAIL("safetensors: writing dtype {} is not supported (f32, f16, bf16)", core::dtype_name(t));
  }
}

// Headers beyond this are refused before they are read: no real header comes close.
constexpr uint64_t kMaxHeader = 100u << 20;

}  // namespace

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, core::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  J header = J::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TESSERA_CHECK(name != "__metadata__" && !header.contains(name), "{}: tensor name '{}' is reserved or repeated",
                  path, name);
    TESSERA_CHECK(t.device() == core::Device::cpu, "{}: tensor '{}' is not on the CPU", path, name);
    const uint64_t size = t.nbytes();
    header[name] = {{"dtype", st_dtype_of(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TESSERA_CHECK(out, "cannot create {}", tmp);
    const uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [name, t] : tensors) {
      const core::Tensor c = t.is_contiguous() ? t : t.clone();
      out.write(static_cast<const char*>(c.raw()), static_cast<std::streamsize>(c.nbytes()));
    }
    out.flush();
    TESSERA_CHECK(out, "cannot write {}", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  TESSERA_CHECK(!ec, "cannot rename {} to {}: {}", tmp, path, ec.message());
}

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in, "cannot open {}", path);
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  TESSERA_CHECK(file_size >= 8, "{}: not a safetensors file: {} bytes, too short for the header length", path,
                file_size);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  TESSERA_CHECK(n <= file_size - 8, "{}: safetensors header length {} exceeds the file ({} bytes after the length)",
                path, n, file_size - 8);
  TESSERA_CHECK(n <= kMaxHeader, "{}: safetensors header length {} is larger than {} bytes", path, n, kMaxHeader);
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  TESSERA_CHECK(in, "cannot read {}", path);
  data_start_ = 8 + n;
  const uint64_t data_size = file_size - data_start_;

  J header;
  try {
    header = J::parse(text);
  } catch (const J::parse_error& e) {
    TESSERA_FAIL("{}: safetensors header is not valid JSON: {}", path, e.what());
  }
  TESSERA_CHECK(header.is_object(), "{}: safetensors header must be a JSON object", path);
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      TESSERA_CHECK(value.is_object(), "{}: __metadata__ must be an object of strings", path);
      for (const auto& [k, v] : value.items()) {
        TESSERA_CHECK(v.is_string(), "{}: __metadata__ value of '{}' is not a string", path, k);
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    TESSERA_CHECK(value.is_object(), "{}: tensor '{}': header entry must be an object", path, name);
    SafetensorsEntry e;
    e.name = name;
    const auto dt = value.find("dtype");
    TESSERA_CHECK(dt != value.end() && dt->is_string(), "{}: tensor '{}': missing string \"dtype\"", path, name);
    e.dtype = dt->get<std::string>();
    const size_t elem = st_dtype_size(e.dtype);
    TESSERA_CHECK(elem > 0, "{}: tensor '{}': unknown dtype \"{}\"", path, name, e.dtype);
    const auto sh = value.find("shape");
    TESSERA_CHECK(sh != value.end() && sh->is_array(), "{}: tensor '{}': missing array \"shape\"", path, name);
    // The byte count, checked for overflow as it grows: a shape's product must fit the file.
    uint64_t bytes = elem;
    for (const auto& d : *sh) {
      TESSERA_CHECK(d.is_number_unsigned(), "{}: tensor '{}': shape {} must hold non-negative integers", path, name,
                    sh->dump());
      const auto dim = d.get<uint64_t>();
      TESSERA_CHECK(dim == 0 || bytes <= std::numeric_limits<uint64_t>::max() / dim,
                    "{}: tensor '{}': shape {} overflows", path, name, sh->dump());
      bytes *= dim;
      e.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(dim, std::numeric_limits<int64_t>::max())));
    }
    const auto off = value.find("data_offsets");
    TESSERA_CHECK(off != value.end() && off->is_array() && off->size() == 2 && (*off)[0].is_number_unsigned() &&
                      (*off)[1].is_number_unsigned(),
                  "{}: tensor '{}': \"data_offsets\" must be two non-negative integers", path, name);
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    TESSERA_CHECK(e.begin <= e.end, "{}: tensor '{}': data_offsets [{}, {}] run backwards", path, name, e.begin, e.end);
    TESSERA_CHECK(e.end <= data_size, "{}: tensor '{}': data_offsets [{}, {}] lie beyond the data ({} bytes)", path,
                  name, e.begin, e.end, data_size);
    TESSERA_CHECK(e.end - e.begin == bytes, "{}: tensor '{}': {} bytes of data, but dtype {} and shape {} need {}",
                  path, name, e.end - e.begin, e.dtype, sh->dump(), bytes);
    index_[name] = entries_.size();
    entries_.push_back(std::move(e));
  }
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : entries_) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto& a = *by_offset[i - 1];
    const auto& b = *by_offset[i];
    TESSERA_CHECK(b.begin >= a.end, "{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", path, a.name, a.begin,
                  a.end, b.name, b.begin, b.end);
  }
}

const SafetensorsEntry& SafetensorsReader::entry(const std::string& name) const {
  const auto it = index_.find(name);
  TESSERA_CHECK(it != index_.end(), "{}: no tensor '{}'", path_, name);
  return entries_[it->second];
}

core::Tensor SafetensorsReader::read_f32(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  core::DType dtype;
  if (e.dtype == "F32") {
    dtype = core::DType::f32;
  } else if (e.dtype == "F16") {
    dtype = core::DType::f16;
  } else if (e.dtype == "BF16") {
    dtype = core::DType::bf16;
  } else {
    TESSERA_FAIL("{}: tensor '{}' has dtype {}; Tessera reads F32, F16 and BF16", path_, name, e.dtype);
  }
  core::Tensor raw = core::Tensor::empty(e.shape, dtype);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
  in.read(static_cast<char*>(raw.raw()), static_cast<std::streamsize>(e.end - e.begin));
  TESSERA_CHECK(in, "{}: cannot read tensor '{}'", path_, name);
  return dtype == core::DType::f32 ? raw : raw.to(core::DType::f32);
}

}  // namespace tessera::interchange
