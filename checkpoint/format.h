#pragma once
// The checkpoint file format: names, the metadata stored as root attributes, and file naming.
// The full schema is in docs/checkpoint.md. One HDF5 file per checkpoint:
//
//   /model/<param>       (full logical shape) f32   one per registry entry, in registration order
//   /optim/m/<param>     (full logical shape) f32   AdamW first moments (training checkpoints)
//   /optim/v/<param>     (full logical shape) f32   AdamW second moments
//   /optim/step          () int64                   optimizer steps taken
//   /state/loader        () string                  LoaderPosition as JSON
//   /state/rng           () string                  RNG state as JSON ({"seed": ..., "step": ...})
//
// Every dataset carries `sha256` (of its elements' bytes in row-major order, as stored:
// little-endian), tensors also `dtype`, `tp_split`, `segments`, `split_unit`, `weight_decay`.
// The root carries the metadata below plus `attributes_sha256` over Meta::to_json().
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::checkpoint {

inline constexpr std::string_view kFormat = "tessera-checkpoint";
inline constexpr int kFormatVersion = 1;
inline constexpr std::string_view kLatestFile = "latest";  // names the newest committed checkpoint
inline constexpr std::string_view kTagsFile = "tags.json";

// The parallel layout of the ranks that wrote (or read) a checkpoint.
struct Layout {
  int dp = 1, tp = 1;
  bool zero = false;  // optimizer moments sharded across data-parallel ranks (ZeRO-1)
  bool operator==(const Layout&) const = default;
};

// What a checkpoint says about itself (root attributes).
struct Meta {
  int format_version = kFormatVersion;
  std::string config_json;   // Config::to_json() of the run
  std::string config_toml;   // Config::to_toml(): parse it back with Config::parse
  int64_t step = 0;
  uint64_t tokens_seen = 0;
  std::string tokenizer_hash;         // empty without a tokenizer
  std::vector<std::string> lineage;   // SHA-256 of each input file of the prepared data (manifest)
  std::string data_manifest_sha256;   // SHA-256 of the data's manifest.json; empty without data or in
                                      // checkpoints written before it was recorded
  Layout layout;                      // at save time
  std::string created_at;             // ISO 8601 UTC, e.g. 2024-05-01T12:00:00Z
  std::string software_version;
  std::optional<double> val_loss;     // the validation loss at this step, when one was measured

  nlohmann::ordered_json to_json() const;
  // Throws tessera::Error naming `source` when a field is missing or has the wrong type.
  static Meta from_json(const nlohmann::json& j, const std::string& source);
};

// "step-00000100.h5" for step 100.
std::string file_name_for_step(int64_t step);
// The step of a name made by file_name_for_step, or nothing for any other name.
std::optional<int64_t> step_from_file_name(std::string_view name);
// The current time as ISO 8601 UTC with seconds ("2024-05-01T12:00:00Z").
std::string utc_now_iso8601();
// The version of this build of Tessera.
std::string software_version();

}  // namespace tessera::checkpoint
