#include "checkpoint/digest_check.h"

#include <fstream>
#include <sstream>

#include "checkpoint/agree.h"
#include "checkpoint/schedule.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

namespace {

// The digest file of `file`, parsed, with the file's size checked against it; nothing without one.
std::optional<FileDigest> read_digest(const fs::path& file) {
  const fs::path sidecar = digest_path(file);
  std::ifstream in(sidecar, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  FileDigest digest = FileDigest::parse(text.str(), sidecar.string());
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  TESSERA_CHECK(!ec, "cannot read the size of {}: {}", file.string(), ec.message());
  TESSERA_CHECK(size == digest.size, "{} has {} bytes where its digest file {} records {}: the file is truncated or was changed",
                file.string(), size, sidecar.string(), digest.size);
  return digest;
}

// Hashes rank `rank`'s share of the ranges; throws naming the first that differs.
void check_ranges(const fs::path& file, const FileDigest& digest, int size, int rank) {
  std::vector<Job> jobs;
  for (const DigestRange& r : digest.ranges) jobs.push_back({r.label, r.length});
  const std::vector<size_t> share = assign(jobs, size, rank);
  std::vector<ByteRange> bytes;
  for (size_t j : share) bytes.push_back({digest.ranges[j].offset, digest.ranges[j].length});
  const std::vector<std::string> actual = sha256_file_ranges(file.string(), bytes);
  for (size_t k = 0; k < share.size(); ++k) {
    const DigestRange& r = digest.ranges[share[k]];
    TESSERA_CHECK(actual[k] == r.sha256,
                  "{}: the {} bytes at offset {} ({}) do not match the SHA-256 recorded in {}: the file is corrupt",
                  file.string(), r.length, r.offset, r.label, digest_path(file).string());
  }
}

}  // namespace

std::optional<FileDigest> check_file_digest(const parallel::World* world, const fs::path& file) {
  std::optional<FileDigest> digest;
  agree(world, [&] {
    digest = read_digest(file);
    if (digest) check_ranges(file, *digest, world ? world->size() : 1, world ? world->rank() : 0);
  });
  return digest;
}

}  // namespace tessera::checkpoint
