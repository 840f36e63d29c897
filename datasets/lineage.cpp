#include "datasets/lineage.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/sha256.h"

namespace tessera::datasets {

namespace {

std::string describe_filters(const nlohmann::json& f) {
  if (f.is_null()) return "not recorded (prepared before filters were recorded: exact deduplication of raw bytes)";
  std::string near = "off";
  if (const auto& n = f.at("near_dedup"); !n.is_null()) {
    near = fmt::format("Jaccard >= {} ({}-word shingles, {} MinHashes in {} bands of {}, seed {})",
                       n.at("threshold").get<double>(), n.at("shingle_words").get<int64_t>(),
                       n.at("minhashes").get<uint64_t>(), n.at("bands").get<uint64_t>(), n.at("rows").get<uint64_t>(),
                       n.at("seed").get<uint64_t>());
  }
  return fmt::format("mask PII {}; min chars {}; max non-text {}; dedup {}; near dedup {}",
                     f.at("mask_pii").get<bool>() ? "on" : "off", f.at("min_chars").get<int64_t>(),
                     f.at("max_non_text").get<double>(), f.at("dedup").get<std::string>(), near);
}

}  // namespace

std::vector<std::string> describe_lineage(const Manifest& m) {
  std::vector<std::string> lines;
  uint64_t bytes = 0;
  for (const auto& in : m.inputs) bytes += in.bytes;
  lines.push_back(fmt::format("sources: {} files, {} bytes (tessera {})", m.inputs.size(), bytes, m.tessera_version));
  for (const auto& in : m.inputs) {
    lines.push_back(fmt::format("  {}  {} bytes  {}  sha256 {}  {} of {} documents kept", in.path, in.bytes,
                                in.format, in.sha256, in.documents_kept, in.documents));
  }
  try {
    lines.push_back("filters: " + describe_filters(m.filters));
  } catch (const nlohmann::json::exception& e) {
    lines.push_back(fmt::format("filters: unreadable ({})", e.what()));
  }
  const ManifestCounts& c = m.counts;
  lines.push_back(fmt::format("documents: {} read, {} kept; removed {} duplicates, {} near duplicates, {} too short, "
                              "{} non-text",
                              c.documents_read, c.train_documents + c.val_documents, c.duplicates_removed,
                              c.near_duplicates_removed, c.too_short_removed, c.non_text_removed));
  if (!c.pii_masked.empty()) {
    std::vector<std::string> kinds;
    for (const auto& [kind, n] : c.pii_masked) kinds.push_back(fmt::format("{} {}", kind, n));
    lines.push_back(fmt::format("PII masked: {}", fmt::join(kinds, ", ")));
  }
  lines.push_back(fmt::format("tokens: train {} ({} documents), val {} ({} documents); tokenizer {}", c.train_tokens,
                              c.train_documents, c.val_tokens, c.val_documents, m.tokenizer_hash));
  return lines;
}

std::optional<FoundManifest> find_manifest(const std::string& sha256, const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    std::error_code ec;
    if (sha256.empty() || !std::filesystem::is_regular_file(path, ec)) continue;
    if (sha256_file(path) != sha256) continue;
    return FoundManifest{path, load_manifest_file(path)};
  }
  return std::nullopt;
}

}  // namespace tessera::datasets
