#include "checkpoint/commit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "checkpoint/format.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TESSERA_CHECK(fd >= 0, "cannot open {} to sync it: {}", path.string(), std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  TESSERA_CHECK(rc == 0, "cannot sync {}: {}", path.string(), std::strerror(err));
}

void write_file_durably(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TESSERA_CHECK(out.good(), "cannot create {}", tmp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    TESSERA_CHECK(out.good(), "cannot write {} (disk full?)", tmp.string());
  }
  fsync_path(tmp);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  TESSERA_CHECK(!ec, "cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message());
  fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

std::optional<std::string> read_latest(const fs::path& dir) {
  std::ifstream in(dir / kLatestFile);
  if (!in) return std::nullopt;
  std::string name;
  std::getline(in, name);
  if (name.empty()) return std::nullopt;
  return name;
}

void commit(const fs::path& dir, const fs::path& tmp, const std::string& final_name, std::vector<DigestRange> known,
            const SaveHook& at) {
  write_file_durably(digest_path(dir / final_name), digest_file(tmp, final_name, std::move(known)).text());
  if (at) at(SavePoint::digest_stored);
  std::error_code ec;
  fs::rename(tmp, dir / final_name, ec);
  TESSERA_CHECK(!ec, "cannot rename {} to {}: {}", tmp.string(), (dir / final_name).string(), ec.message());
  fsync_path(dir);
  if (at) at(SavePoint::renamed);
  write_file_durably(dir / kLatestFile, final_name + "\n");
  if (at) at(SavePoint::pointed);
}

std::vector<Listed> list_checkpoints(const fs::path& dir) {
  std::vector<Listed> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    if (const auto step = step_from_file_name(entry.path().filename().string())) out.push_back({*step, entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const Listed& a, const Listed& b) { return a.step < b.step; });
  return out;
}

}  // namespace tessera::checkpoint
