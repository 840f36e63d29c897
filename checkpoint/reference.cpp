#include "checkpoint/reference.h"

#include <charconv>

#include <fmt/format.h>

#include "checkpoint/commit.h"
#include "checkpoint/format.h"
#include "checkpoint/tags.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

fs::path checkpoints_dir(const fs::path& dir) {
  if (fs::is_directory(dir / "checkpoints")) return dir / "checkpoints";
  return dir;
}

namespace {

fs::path latest_of(const fs::path& dir, const std::string& ref) {
  const fs::path ckpts = checkpoints_dir(dir);
  const auto name = read_latest(ckpts);
  TESSERA_CHECK(name.has_value(), "{}: no checkpoint yet ({} does not exist)", ref, (ckpts / kLatestFile).string());
  const fs::path file = ckpts / *name;
  TESSERA_CHECK(fs::is_regular_file(file), "{}: `latest` names {}, which does not exist", ref, file.string());
  return file;
}

fs::path tagged(const fs::path& dir, const std::string& tag, const std::string& ref) {
  const fs::path ckpts = checkpoints_dir(dir);
  if (tag == kLatestFile) return latest_of(dir, ref);
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

fs::path resolve(const std::string& ref) {
  TESSERA_CHECK(!ref.empty(), "empty checkpoint reference");
  if (fs::is_regular_file(ref)) return ref;
  if (fs::is_directory(ref)) return latest_of(ref, ref);
  const size_t colon = ref.rfind(':');
  if (colon != std::string::npos && colon > 0 && fs::is_directory(ref.substr(0, colon))) {
    return tagged(ref.substr(0, colon), ref.substr(colon + 1), ref);
  }
  TESSERA_FAIL("'{}' is not a checkpoint file, a run directory or RUN_DIR:TAG", ref);
}

}  // namespace tessera::checkpoint
