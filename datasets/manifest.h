#pragma once
// manifest.json: what `tessera prepare` read and wrote (fields in docs/data.md). Written last and
// atomically, so a manifest only ever names shards that were completely written. It carries no
// timestamps: the same inputs and options give the same bytes whatever the rank count. Fields
// added since format version 1 (filters, filter counts, shard sources) are optional on reading,
// so older manifests still load.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::datasets {

inline constexpr std::string_view kManifestFormat = "tessera-prepared";
inline constexpr int kManifestFormatVersion = 1;
inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr std::string_view kTokenizerFile = "tokenizer.json";

struct ManifestInput {
  std::string path;    // as given on the command line (directory entries as DIR/NAME)
  std::string format;  // the format the file was read as: text, jsonl or fortune
  uint64_t bytes = 0;
  std::string sha256;  // of the file's bytes
  uint64_t documents = 0;  // documents read from it, before filtering
  uint64_t documents_kept = 0;  // of those, documents that passed the filters (0 in older manifests)
};

struct ManifestShard {
  std::string file;   // name inside the output directory
  std::string split;  // "train" or "val"
  uint64_t tokens = 0;
  uint64_t documents = 0;  // documents that start in this shard
  std::string sha256;
  std::vector<uint64_t> sources = {};  // indices into inputs[] of the files its tokens came from
};

struct ManifestCounts {
  uint64_t documents_read = 0;
  uint64_t duplicates_removed = 0;  // exact duplicates
  uint64_t train_documents = 0, val_documents = 0;
  uint64_t train_tokens = 0, val_tokens = 0;  // including one end-of-text token per document
  // Dropped by the other filters (datasets/filters.h), and PII replacements per kind ("email",
  // ...; empty without --mask-pii). Zero and empty in manifests written before they existed.
  uint64_t too_short_removed = 0, non_text_removed = 0, near_duplicates_removed = 0;
  std::map<std::string, uint64_t> pii_masked = {};
};

struct Manifest {
  std::string tessera_version;
  std::vector<ManifestInput> inputs;
  ManifestCounts counts;
  std::string tokenizer_hash;
  uint64_t vocab_size = 0;
  uint64_t eot_id = 0;
  bool tokenizer_trained = false;
  std::string dtype;  // "uint16" or "uint32"
  double val_fraction = 0.0;
  uint64_t seed = 0;
  uint64_t shard_tokens = 0;
  std::vector<ManifestShard> shards;
  // The filters applied and their settings (filters_json in datasets/filters.h); null in
  // manifests written before filters were recorded.
  nlohmann::json filters;

  nlohmann::json to_json() const;
  static Manifest from_json(const nlohmann::json& j, const std::string& source);

  // Shard files of one split, in order, as paths inside `dir`.
  std::vector<std::string> shard_paths(const std::string& dir, std::string_view split) const;
};

// Writes DIR/manifest.json through a temporary file and a rename.
void save_manifest(const Manifest& manifest, const std::string& dir);
Manifest load_manifest(const std::string& dir);
Manifest load_manifest_file(const std::string& path);  // a manifest under any name (a run's copy)

// Writes `bytes` to `path` through `path.tmp` and a rename, so readers see all or nothing.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace tessera::datasets
