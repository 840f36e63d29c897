#include "checkpoint/tags.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include <nlohmann/json.hpp>

#include "checkpoint/commit.h"
#include "checkpoint/format.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

std::map<std::string, std::string> read_tags(const fs::path& dir) {
  const fs::path path = dir / kTagsFile;
  std::ifstream in(path);
  if (!in) return {};
  try {
    return nlohmann::json::parse(in).at("tags").get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{} is malformed: {}", path.string(), e.what());
  }
}

void set_tag(const fs::path& dir, const std::string& name, const std::string& file_name) {
  const bool chars_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
  const bool all_digits = std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); });
  TESSERA_CHECK(chars_ok && !all_digits && name != kLatestFile,
                "bad tag name '{}': use letters, digits, '.', '_' and '-' (not only digits, not 'latest')", name);
  TESSERA_CHECK(fs::is_regular_file(dir / file_name), "cannot tag {}: no such checkpoint in {}", file_name, dir.string());
  auto tags = read_tags(dir);
  tags[name] = file_name;
  write_file_durably(dir / kTagsFile, nlohmann::json{{"tags", tags}}.dump(2) + "\n");
}

}  // namespace tessera::checkpoint
