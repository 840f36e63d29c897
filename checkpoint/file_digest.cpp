#include "checkpoint/file_digest.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

namespace {

constexpr const char* kMagic = "tessera-digest";
constexpr int kVersion = 1;

std::string range_line(const DigestRange& r) {
  return fmt::format("{} {} {} {}\n", r.sha256, r.offset, r.length, r.label);
}

bool is_hex_digest(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The next space-separated field of `line` from `pos` (the rest of the line when `last`).
std::string field(const std::string& line, size_t& pos, bool last = false) {
  const size_t end = last ? line.size() : std::min(line.find(' ', pos), line.size());
  std::string out = line.substr(pos, end - pos);
  pos = end + 1;
  return out;
}

uint64_t parse_number(const std::string& s, const std::string& where) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  TESSERA_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), "{}: '{}' is not a byte count", where, s);
  return v;
}

DigestRange parse_range(const std::string& line, const std::string& where) {
  size_t pos = 0;
  DigestRange r;
  r.sha256 = field(line, pos);
  TESSERA_CHECK(is_hex_digest(r.sha256), "{}: '{}' is not a SHA-256 digest", where, r.sha256);
  r.offset = parse_number(field(line, pos), where);
  r.length = parse_number(field(line, pos), where);
  TESSERA_CHECK(pos < line.size(), "{}: the range has no label", where);
  r.label = field(line, pos, /*last=*/true);
  return r;
}

DigestRange hash_range(const fs::path& file, uint64_t offset, uint64_t length) {
  return {offset, length, sha256_file_range(file.string(), offset, length), kMetadataLabel};
}

}  // namespace

std::string FileDigest::top() const {
  std::string lines;
  for (const DigestRange& r : ranges) lines += range_line(r);
  return sha256_hex(lines);
}

std::string FileDigest::text() const {
  std::string out = fmt::format("{} {} {} {}\n", kMagic, kVersion, file_name, size);
  for (const DigestRange& r : ranges) out += range_line(r);
  return out + "top " + top() + "\n";
}

FileDigest FileDigest::parse(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  std::string line;
  TESSERA_CHECK(std::getline(in, line), "{}: empty digest file", what);
  std::istringstream header(line);
  std::string magic, extra;
  int version = 0;
  FileDigest d;
  header >> magic >> version >> d.file_name >> d.size;
  TESSERA_CHECK(header && magic == kMagic && !(header >> extra), "{}: not a tessera digest file (first line '{}')", what, line);
  TESSERA_CHECK(version == kVersion, "{}: digest format version {} (this build reads {})", what, version, kVersion);
  std::string top;
  for (size_t n = 2; std::getline(in, line); ++n) {
    const std::string where = fmt::format("{}: line {}", what, n);
    TESSERA_CHECK(top.empty(), "{}: text after the top digest", where);
    if (line.starts_with("top ")) {
      top = line.substr(4);
      continue;
    }
    DigestRange r = parse_range(line, where);
    const uint64_t at = d.ranges.empty() ? 0 : d.ranges.back().offset + d.ranges.back().length;
    TESSERA_CHECK(r.offset == at && r.length <= d.size - at, "{}: the range {}+{} does not follow the previous one "
                  "within the {} bytes of the file", where, r.offset, r.length, d.size);
    d.ranges.push_back(std::move(r));
  }
  const uint64_t covered = d.ranges.empty() ? 0 : d.ranges.back().offset + d.ranges.back().length;
  TESSERA_CHECK(covered == d.size, "{}: the ranges cover {} of the file's {} bytes", what, covered, d.size);
  TESSERA_CHECK(top == d.top(), "{}: the top digest does not match the ranges (the digest file is damaged)", what);
  return d;
}

const DigestRange* FileDigest::find(uint64_t offset, uint64_t length) const {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), offset,
                             [](const DigestRange& r, uint64_t o) { return r.offset < o; });
  for (; it != ranges.end() && it->offset == offset; ++it) {
    if (it->length == length) return &*it;
  }
  return nullptr;
}

fs::path digest_path(const fs::path& file) {
  fs::path p = file;
  p += ".sha256";
  return p;
}

FileDigest digest_file(const fs::path& file, const std::string& file_name, std::vector<DigestRange> known) {
  std::error_code ec;
  FileDigest d{file_name, fs::file_size(file, ec), {}};
  TESSERA_CHECK(!ec, "cannot read the size of {}: {}", file.string(), ec.message());
  std::sort(known.begin(), known.end(), [](const DigestRange& a, const DigestRange& b) { return a.offset < b.offset; });
  uint64_t at = 0;
  for (DigestRange& r : known) {
    TESSERA_CHECK(r.offset >= at && r.offset <= d.size && r.length <= d.size - r.offset,
                  "{}: the bytes of {} ({}+{}) overlap others or lie beyond the end of the file ({} bytes)", file.string(),
                  r.label, r.offset, r.length, d.size);
    if (r.offset > at) d.ranges.push_back(hash_range(file, at, r.offset - at));
    at = r.offset + r.length;
    d.ranges.push_back(std::move(r));
  }
  if (at < d.size) d.ranges.push_back(hash_range(file, at, d.size - at));
  return d;
}

}  // namespace tessera::checkpoint
