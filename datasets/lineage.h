#pragma once
// Where prepared data came from, for people: the lines `tessera ckpt show` prints for a
// checkpoint's data, read from the manifest its training data had.
#include <optional>
#include <string>
#include <vector>

#include "datasets/manifest.h"

namespace tessera::datasets {

// Sources (path, bytes, SHA-256), the filters and their settings, and the counts of a manifest.
std::vector<std::string> describe_lineage(const Manifest& manifest);

struct FoundManifest {
  std::string path;
  Manifest manifest;
};

// The first of `paths` (manifest.json files) whose bytes have SHA-256 `sha256`; none when no file
// there matches (moved, or the data was prepared again since).
std::optional<FoundManifest> find_manifest(const std::string& sha256, const std::vector<std::string>& paths);

}  // namespace tessera::datasets
