#include "datasets/shard.h"

#include "h5/handle.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

namespace tessera::datasets {

namespace {

// Tokens per chunk of /tokens: 512 KiB (uint16) or 1 MiB (uint32). No compression filter, so a
// read of a few tokens fetches only those bytes.
constexpr hsize_t kChunkTokens = hsize_t{1} << 18;

// Object creation properties shared by the file's objects: no access/modification times, so a
// shard's bytes depend only on its content.
h5::Handle untimed(hid_t property_class, const std::string& path) {
  auto plist = h5::checked(H5Pcreate(property_class), H5Pclose, fmt::format("property list for {}", path));
  h5::check(H5Pset_obj_track_times(plist.get(), false), fmt::format("untimed objects in {}", path));
  return plist;
}

void write_string_attr(hid_t loc, const char* name, std::string_view value, const std::string& path) {
  const std::string what = fmt::format("attribute '{}' of {}", name, path);
  auto type = h5::checked(H5Tcopy(H5T_C_S1), H5Tclose, what);
  h5::check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)), what);
  h5::check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), what);
  auto space = h5::checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto attr = h5::checked(H5Acreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, what);
  std::string padded(value);
  padded.resize(std::max<size_t>(value.size(), 1), '\0');
  h5::check(H5Awrite(attr.get(), type.get(), padded.data()), what);
}

template <typename T>
void write_int_attr(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, T value, const std::string& path) {
  const std::string what = fmt::format("attribute '{}' of {}", name, path);
  auto space = h5::checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto attr = h5::checked(H5Acreate2(loc, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, what);
  h5::check(H5Awrite(attr.get(), mem_type, &value), what);
}

void write_dataset(hid_t file, const char* name, hid_t file_type, hid_t mem_type, const void* data, hsize_t count,
                   bool chunked, const std::string& path) {
  const std::string what = fmt::format("dataset /{} of {}", name, path);
  auto dcpl = untimed(H5P_DATASET_CREATE, path);
  h5::check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), what);
  if (chunked) {
    const hsize_t chunk = std::min(count, kChunkTokens);
    h5::check(H5Pset_chunk(dcpl.get(), 1, &chunk), what);
  }
  auto space = h5::checked(H5Screate_simple(1, &count, nullptr), H5Sclose, what);
  auto dset = h5::checked(H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                          H5Dclose, "cannot create " + what);
  h5::check(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write " + what);
}

// A scalar fixed-length string dataset (no size limit, unlike a compact attribute).
void write_string_dataset(hid_t file, const char* name, std::string_view value, const std::string& path) {
  const std::string what = fmt::format("dataset /{} of {}", name, path);
  auto type = h5::checked(H5Tcopy(H5T_C_S1), H5Tclose, what);
  h5::check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)), what);
  h5::check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), what);
  auto space = h5::checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto dcpl = untimed(H5P_DATASET_CREATE, path);
  auto dset = h5::checked(H5Dcreate2(file, name, type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                          H5Dclose, "cannot create " + what);
  std::string padded(value);
  padded.resize(std::max<size_t>(value.size(), 1), '\0');
  h5::check(H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, padded.data()), "cannot write " + what);
}

std::string read_string_dataset(hid_t file, const char* name, const std::string& path) {
  const std::string what = fmt::format("dataset /{} of {}", name, path);
  auto dset = h5::checked(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose, "cannot open " + what);
  auto type = h5::checked(H5Dget_type(dset.get()), H5Tclose, what);
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING && H5Tis_variable_str(type.get()) == 0,
                "{}: {} is not a fixed-length string", path, what);
  std::string value(H5Tget_size(type.get()), '\0');
  h5::check(H5Dread(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), "cannot read " + what);
  value.resize(std::strlen(value.c_str()));
  return value;
}

bool has_attr(hid_t loc, const char* name) { return H5Aexists(loc, name) > 0; }

std::string read_string_attr(hid_t loc, const char* name, const std::string& path) {
  TESSERA_CHECK(has_attr(loc, name), "{} is not a Tessera token shard: attribute '{}' is missing", path, name);
  const std::string what = fmt::format("attribute '{}' of {}", name, path);
  auto attr = h5::checked(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose, what);
  auto type = h5::checked(H5Aget_type(attr.get()), H5Tclose, what);
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING, "{}: {} is not a string", path, what);
  if (H5Tis_variable_str(type.get()) > 0) {
    char* value = nullptr;
    h5::check(H5Aread(attr.get(), type.get(), &value), what);
    std::string result = value ? value : "";
    H5free_memory(value);
    return result;
  }
  std::string value(H5Tget_size(type.get()), '\0');
  h5::check(H5Aread(attr.get(), type.get(), value.data()), what);
  value.resize(std::strlen(value.c_str()));
  return value;
}

int64_t read_int_attr(hid_t loc, const char* name, const std::string& path) {
  TESSERA_CHECK(has_attr(loc, name), "{} is not a Tessera token shard: attribute '{}' is missing", path, name);
  const std::string what = fmt::format("attribute '{}' of {}", name, path);
  auto attr = h5::checked(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose, what);
  auto type = h5::checked(H5Aget_type(attr.get()), H5Tclose, what);
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_INTEGER, "{}: {} is not an integer", path, what);
  int64_t value = 0;
  h5::check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), what);
  return value;
}

// Opens a 1-D integer dataset and returns it with its length; `what` names it in errors.
h5::Handle open_vector(hid_t file, const char* name, const std::string& path, hsize_t& length) {
  TESSERA_CHECK(H5Lexists(file, name, H5P_DEFAULT) > 0, "{} is not a Tessera token shard: dataset /{} is missing",
                path, name);
  // No chunk cache: the loader reads short random windows, and a cached chunk would cost a whole
  // chunk's read per window; uncached reads of unfiltered chunks fetch only the selection.
  auto dapl = h5::checked(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, fmt::format("/{} in {}", name, path));
  h5::check(H5Pset_chunk_cache(dapl.get(), 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT), fmt::format("/{} in {}", name, path));
  auto dset = h5::checked(H5Dopen2(file, name, dapl.get()), H5Dclose, fmt::format("cannot open /{} in {}", name, path));
  auto space = h5::checked(H5Dget_space(dset.get()), H5Sclose, fmt::format("/{} in {}", name, path));
  TESSERA_CHECK(H5Sget_simple_extent_ndims(space.get()) == 1, "{}: /{} must be one-dimensional", path, name);
  h5::check(H5Sget_simple_extent_dims(space.get(), &length, nullptr), fmt::format("/{} in {}", name, path));
  return dset;
}

}  // namespace

TokenDtype dtype_for_vocab(uint64_t vocab_size) {
  if (vocab_size <= (uint64_t{1} << 16)) return TokenDtype::U16;
  TESSERA_CHECK(vocab_size <= (uint64_t{1} << 32),
                "a vocabulary of {} tokens does not fit the largest shard dtype (uint32 holds 2^32 ids)", vocab_size);
  return TokenDtype::U32;
}

std::string_view dtype_name(TokenDtype dtype) { return dtype == TokenDtype::U16 ? "uint16" : "uint32"; }

std::string shard_name(std::string_view split, size_t index) { return fmt::format("{}_{:05}.h5", split, index); }

void write_shard(const std::string& path, const ShardMeta& meta, std::span<const TokenId> tokens,
                 std::span<const int64_t> doc_offsets) {
  TESSERA_CHECK(!tokens.empty(), "shard {} would hold no tokens", path);
  for (size_t i = 0; i < doc_offsets.size(); ++i) {
    TESSERA_CHECK(doc_offsets[i] >= 0 && doc_offsets[i] < static_cast<int64_t>(tokens.size()) &&
                      (i == 0 || doc_offsets[i] > doc_offsets[i - 1]),
                  "shard {}: document offsets must ascend within the tokens", path);
  }
  const TokenDtype dtype = dtype_for_vocab(meta.vocab_size);
  for (TokenId id : tokens) {
    TESSERA_CHECK(id < meta.vocab_size, "shard {}: token id {} is outside the vocabulary of {}", path, id,
                  meta.vocab_size);
  }

  h5::QuietErrors quiet;
  auto fcpl = untimed(H5P_FILE_CREATE, path);
  auto file = h5::checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose,
                          fmt::format("cannot create {}", path));
  const auto count = static_cast<hsize_t>(tokens.size());
  if (dtype == TokenDtype::U16) {
    std::vector<uint16_t> narrow(tokens.begin(), tokens.end());  // ids < 65536 checked above
    write_dataset(file.get(), "tokens", H5T_STD_U16LE, H5T_NATIVE_UINT16, narrow.data(), count, true, path);
  } else {
    write_dataset(file.get(), "tokens", H5T_STD_U32LE, H5T_NATIVE_UINT32, tokens.data(), count, true, path);
  }
  write_dataset(file.get(), "doc_offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, doc_offsets.data(),
                static_cast<hsize_t>(doc_offsets.size()), false, path);
  if (!meta.lineage.empty()) write_string_dataset(file.get(), "lineage", meta.lineage, path);

  write_string_attr(file.get(), "format", kShardFormat, path);
  write_int_attr(file.get(), "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, kShardFormatVersion, path);
  write_int_attr(file.get(), "vocab_size", H5T_STD_U64LE, H5T_NATIVE_UINT64, meta.vocab_size, path);
  write_int_attr(file.get(), "eot_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, meta.eot_id, path);
  write_string_attr(file.get(), "tokenizer_hash", meta.tokenizer_hash, path);
  write_string_attr(file.get(), "split", meta.split, path);

  // Closed by hand: the final flush happens here and its failure (a full disk) must surface.
  TESSERA_CHECK(H5Fclose(file.release()) >= 0, "HDF5: cannot finish writing {} (disk full?)", path);
}

namespace {

// HDF5 as Debian builds it (without its thread-safe option) keeps library-wide state: readers on
// several threads of one process (in-process ranks) take turns.
std::recursive_mutex& hdf5_turn() {
  static std::recursive_mutex turn;
  return turn;
}

}  // namespace

struct ShardReader::Handles {
  h5::Handle file, tokens, offsets;
  ~Handles() {
    std::lock_guard turn(hdf5_turn());
    offsets.reset();
    tokens.reset();
    file.reset();
  }
};

ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&&) noexcept = default;

ShardReader::ShardReader(const std::string& path) : path_(path), h5_(std::make_unique<Handles>()) {
  std::lock_guard turn(hdf5_turn());
  std::error_code ec;
  TESSERA_CHECK(std::filesystem::is_regular_file(path, ec), "token shard {} does not exist", path);
  h5::QuietErrors quiet;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  TESSERA_CHECK(is_hdf5 > 0, "{} is not an HDF5 file (or cannot be read)", path);
  h5_->file = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                         fmt::format("cannot open {} (truncated or damaged file?)", path));
  const hid_t f = h5_->file.get();

  // Structure first (datasets and their types), then the attributes that describe them.
  hsize_t n = 0;
  h5_->tokens = open_vector(f, "tokens", path, n);
  num_tokens_ = n;
  auto type = h5::checked(H5Dget_type(h5_->tokens.get()), H5Tclose, fmt::format("/tokens in {}", path));
  const size_t bytes = H5Tget_size(type.get());
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE &&
                    (bytes == 2 || bytes == 4),
                "{}: /tokens has the wrong dtype (expected uint16 or uint32)", path);
  dtype_ = bytes == 2 ? TokenDtype::U16 : TokenDtype::U32;

  h5_->offsets = open_vector(f, "doc_offsets", path, n);
  num_documents_ = n;
  auto otype = h5::checked(H5Dget_type(h5_->offsets.get()), H5Tclose, fmt::format("/doc_offsets in {}", path));
  TESSERA_CHECK(H5Tget_class(otype.get()) == H5T_INTEGER && H5Tget_size(otype.get()) == 8,
                "{}: /doc_offsets has the wrong dtype (expected int64)", path);

  const std::string format = read_string_attr(f, "format", path);
  TESSERA_CHECK(format == kShardFormat, "{} is not a Tessera token shard (format '{}', expected '{}')", path, format,
                kShardFormat);
  const int64_t version = read_int_attr(f, "format_version", path);
  TESSERA_CHECK(version == kShardFormatVersion, "{}: shard format version {} is not supported (this build reads {})",
                path, version, kShardFormatVersion);
  const int64_t vocab = read_int_attr(f, "vocab_size", path);
  const int64_t eot = read_int_attr(f, "eot_id", path);
  TESSERA_CHECK(vocab > 0 && eot >= 0 && eot < vocab, "{}: vocab_size {} / eot_id {} are inconsistent", path, vocab,
                eot);
  meta_.vocab_size = static_cast<uint64_t>(vocab);
  meta_.eot_id = static_cast<uint64_t>(eot);
  meta_.tokenizer_hash = read_string_attr(f, "tokenizer_hash", path);
  meta_.split = read_string_attr(f, "split", path);
  if (H5Lexists(f, "lineage", H5P_DEFAULT) > 0) meta_.lineage = read_string_dataset(f, "lineage", path);
  TESSERA_CHECK(dtype_ == TokenDtype::U32 || meta_.vocab_size <= (uint64_t{1} << 16),
                "{}: /tokens is uint16 but the vocabulary has {} tokens", path, meta_.vocab_size);
}

void ShardReader::read_tokens(uint64_t start, size_t count, int32_t* out) const {
  std::lock_guard turn(hdf5_turn());
  TESSERA_CHECK(start <= num_tokens_ && count <= num_tokens_ - start,
                "{}: tokens [{}, {}) are outside the shard's {} tokens", path_, start, start + count, num_tokens_);
  if (count == 0) return;
  h5::QuietErrors quiet;
  const std::string what = fmt::format("cannot read tokens [{}, {}) of {}", start, start + count, path_);
  auto file_space = h5::checked(H5Dget_space(h5_->tokens.get()), H5Sclose, what);
  const hsize_t offset = start, length = count;
  h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &offset, nullptr, &length, nullptr), what);
  auto mem_space = h5::checked(H5Screate_simple(1, &length, nullptr), H5Sclose, what);
  h5::check(H5Dread(h5_->tokens.get(), H5T_NATIVE_INT32, mem_space.get(), file_space.get(), H5P_DEFAULT, out), what);
}

std::vector<int32_t> ShardReader::read_all_tokens() const {
  std::vector<int32_t> tokens(num_tokens_);
  read_tokens(0, tokens.size(), tokens.data());
  return tokens;
}

std::vector<int64_t> ShardReader::read_doc_offsets() const {
  std::lock_guard turn(hdf5_turn());
  std::vector<int64_t> offsets(num_documents_);
  if (offsets.empty()) return offsets;
  h5::QuietErrors quiet;
  h5::check(H5Dread(h5_->offsets.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets.data()),
            fmt::format("cannot read /doc_offsets of {}", path_));
  return offsets;
}

}  // namespace tessera::datasets
