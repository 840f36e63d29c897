#include "checkpoint/reference.h"

#include <charconv>

#include <fmt/format.h>

#include "checkpoint/commit.h"
#include "checkpoint/format.h"
#include "checkpoint/rotation.h"
#include "checkpoint/tags.h"
#include "checkpoint/verify.h"
#include "core/log.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

fs::path checkpoints_dir(const fs::path& dir) {
  if (fs::is_directory(dir / "checkpoints")) return dir / "checkpoints";
  return dir;
}

namespace {

// The newest checkpoint of a directory that verifies, `latest` first.
Resolved newest_valid(const fs::path& dir, const std::string& ref) {
  const fs::path ckpts = checkpoints_dir(dir);
  std::vector<std::string> problems;
  for (const fs::path& file : candidates(ckpts)) {
    const VerifyResult r = verify_file(file.string());
    if (r.ok()) {
      if (!problems.empty()) log::warn("{}: using {}, the newest checkpoint that verifies", ref, file.string());
      return {file, true};
    }
    log::warn("{}: skipping {}: {}", ref, file.string(), fmt::join(r.problems, "; "));
    problems.push_back(file.filename().string());
  }
  TESSERA_CHECK(problems.empty(), "{}: none of its {} checkpoints verifies ({})", ref, problems.size(),
                fmt::join(problems, ", "));
  TESSERA_FAIL("{}: no checkpoint yet (no step-*.h5 in {})", ref, ckpts.string());
}

fs::path tagged(const fs::path& dir, const std::string& tag, const std::string& ref) {
  const fs::path ckpts = checkpoints_dir(dir);
  int64_t step = -1;
  const auto [end, ec] = std::from_chars(tag.data(), tag.data() + tag.size(), step);
  if (ec == std::errc() && end == tag.data() + tag.size()) {
    const fs::path file = ckpts / file_name_for_step(step);
    TESSERA_CHECK(fs::is_regular_file(file), "{}: no checkpoint of step {} ({} does not exist)", ref, step, file.string());
    return file;
  }
  const auto tags = read_tags(ckpts);
  const auto it = tags.find(tag);
  if (it == tags.end()) {
    std::vector<std::string> names;
    for (const auto& [n, f] : tags) names.push_back(n);
    TESSERA_FAIL("{}: no tag '{}' in {} (tags: {})", ref, tag, (ckpts / kTagsFile).string(),
                 names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
  }
  const fs::path file = ckpts / it->second;
  TESSERA_CHECK(fs::is_regular_file(file), "{}: tag '{}' names {}, which does not exist", ref, tag, file.string());
  return file;
}

}  // namespace

Resolved resolve_checked(const std::string& ref) {
  TESSERA_CHECK(!ref.empty(), "empty checkpoint reference");
  if (fs::is_regular_file(ref)) return {ref, false};
  if (fs::is_directory(ref)) return newest_valid(ref, ref);
  const size_t colon = ref.rfind(':');
  if (colon != std::string::npos && colon > 0 && fs::is_directory(ref.substr(0, colon))) {
    const std::string tag = ref.substr(colon + 1);
    if (tag == kLatestFile) return newest_valid(ref.substr(0, colon), ref);
    return {tagged(ref.substr(0, colon), tag, ref), false};
  }
  TESSERA_FAIL("'{}' is not a checkpoint file, a run directory or RUN_DIR:TAG", ref);
}

std::optional<fs::path> run_dir_of(const fs::path& file) {
  const fs::path parent = fs::absolute(file).parent_path();
  if (parent.filename() != "checkpoints") return std::nullopt;
  return parent.parent_path();
}

}  // namespace tessera::checkpoint
