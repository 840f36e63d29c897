#include "checkpoint/rotation.h"

#include <chrono>

#include <fmt/format.h>

#include "checkpoint/commit.h"
#include "checkpoint/file_digest.h"
#include "checkpoint/verify.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

namespace {

// "size:mtime" of a file, or empty when it cannot be read.
std::string stamp(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return "";
  const auto time = fs::last_write_time(file, ec);
  if (ec) return "";
  return fmt::format("{}:{}", size, time.time_since_epoch().count());
}

}  // namespace

std::vector<fs::path> candidates(const fs::path& dir) {
  std::vector<fs::path> out;
  const auto all = list_checkpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) out.push_back(it->path);
  return out;
}

bool Validity::ok(const fs::path& file) {
  const std::string now = stamp(file);
  if (now.empty()) return false;
  const auto it = verified_.find(file.string());
  if (it != verified_.end() && it->second == now) return true;
  if (!verify_file(file.string()).ok()) return false;
  verified_[file.string()] = now;
  return true;
}

void Validity::trust(const fs::path& file) { verified_[file.string()] = stamp(file); }

fs::path quarantine(const fs::path& file) {
  const fs::path dir = file.parent_path() / kQuarantineDir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  TESSERA_CHECK(!ec, "cannot create {}: {}", dir.string(), ec.message());
  fs::path target = dir / file.filename();
  for (int n = 1; fs::exists(target); ++n) target = dir / fmt::format("{}.{}", file.filename().string(), n);
  fs::rename(file, target, ec);
  TESSERA_CHECK(!ec, "cannot move {} to {}: {}", file.string(), target.string(), ec.message());
  const fs::path digest = digest_path(file);
  if (fs::exists(digest)) {
    fs::path digest_target = target;
    digest_target += ".sha256";
    fs::rename(digest, digest_target, ec);
  }
  fsync_path(file.parent_path());
  return target;
}

Rotation rotate(const fs::path& dir, int64_t keep, const std::string& committed, const std::set<std::string>& tagged,
                Validity& validity) {
  Rotation r;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if ((name.ends_with(".h5.tmp") || name.ends_with(".h5.sha256.tmp")) && fs::remove(entry.path(), ec)) {
      r.deleted.push_back(entry.path());
    }
  }
  const auto listed = list_checkpoints(dir);
  int64_t kept = 0;
  for (auto it = listed.rbegin(); it != listed.rend(); ++it) {
    const fs::path& file = it->path;
    const std::string name = file.filename().string();
    if (name != committed && !validity.ok(file)) {
      r.quarantined.push_back(quarantine(file));
      continue;
    }
    if (name == committed || keep <= 0 || kept < keep) {
      ++kept;
      continue;
    }
    if (tagged.count(name) > 0) continue;
    if (fs::remove(file, ec)) r.deleted.push_back(file);
    fs::remove(digest_path(file), ec);
  }
  return r;
}

}  // namespace tessera::checkpoint
