#pragma once
// The digest file beside a checkpoint, FILE.sha256: a hash list over the whole file. The file is
// cut into consecutive byte ranges: one per dataset's elements (a contiguous dataset's bytes, so
// the range's SHA-256 is also the dataset's `sha256` checksum and saving hashes those bytes once
// for both) and one per stretch of HDF5 metadata between them. Each range has its SHA-256; the
// ranges can be hashed and checked by many processes at once. Text, one line each:
//
//   tessera-digest 1 step-00000100.h5 1282460648     format, version, file name, size in bytes
//   <sha256> <offset> <length> <label>              a range, by offset; label: "/model/x" or "metadata"
//   top <sha256>                                    SHA-256 of the range lines (each with its "\n")
//
// The top digest names the file's content as a whole; a damaged digest file fails it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::checkpoint {

inline constexpr const char* kMetadataLabel = "metadata";

struct DigestRange {
  uint64_t offset = 0, length = 0;
  std::string sha256;  // 64 lowercase hex digits
  std::string label;   // the dataset whose elements these bytes are, or kMetadataLabel
};

struct FileDigest {
  std::string file_name;
  uint64_t size = 0;
  std::vector<DigestRange> ranges;  // by offset, consecutive, covering [0, size)

  std::string top() const;
  std::string text() const;
  // Throws tessera::Error naming `what` unless `text` is a well-formed digest file (ranges that
  // cover the file exactly once, a matching top digest).
  static FileDigest parse(const std::string& text, const std::string& what);
  // The range with exactly these bounds, or nullptr.
  const DigestRange* find(uint64_t offset, uint64_t length) const;
};

// The sidecar that holds a checkpoint file's digest: FILE.sha256.
std::filesystem::path digest_path(const std::filesystem::path& file);

// The digest of `file` (recorded under `file_name`) from the known digests of some of its ranges
// (disjoint: the datasets' elements); every byte outside them is hashed now, in this process.
FileDigest digest_file(const std::filesystem::path& file, const std::string& file_name,
                       std::vector<DigestRange> known);

}  // namespace tessera::checkpoint
