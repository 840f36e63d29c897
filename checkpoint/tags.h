#pragma once
// Named versions of a run: RUN_DIR/checkpoints/tags.json maps a tag to a checkpoint file name,
//   {"tags": {"best": "step-00000400.h5", "release-1": "step-00001000.h5"}}
// written through a temporary file and a rename. Tagged checkpoints are never pruned. Local
// functions (rank 0 or a single process).
#include <filesystem>
#include <map>
#include <string>

namespace tessera::checkpoint {

// tag -> file name; empty when there is no tags.json. Throws tessera::Error when it is malformed.
std::map<std::string, std::string> read_tags(const std::filesystem::path& checkpoints_dir);

// Points tag `name` at `file_name` (which must exist in checkpoints_dir), replacing an older
// target. Names: letters, digits, '.', '_', '-'; not "latest", not all digits (those mean steps).
void set_tag(const std::filesystem::path& checkpoints_dir, const std::string& name, const std::string& file_name);

}  // namespace tessera::checkpoint
