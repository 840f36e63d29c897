#include "datasets/manifest.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace tessera::datasets {

namespace fs = std::filesystem;
using nlohmann::json;

json Manifest::to_json() const {
  json j;
  j["format"] = kManifestFormat;
  j["format_version"] = kManifestFormatVersion;
  j["tessera_version"] = tessera_version;
  j["inputs"] = json::array();
  for (const auto& in : inputs) {
    j["inputs"].push_back({{"path", in.path},
                           {"format", in.format},
                           {"bytes", in.bytes},
                           {"sha256", in.sha256},
                           {"documents", in.documents},
                           {"documents_kept", in.documents_kept}});
  }
  j["counts"] = {{"documents_read", counts.documents_read},
                 {"documents_kept", counts.train_documents + counts.val_documents},
                 {"duplicates_removed", counts.duplicates_removed},
                 {"too_short_removed", counts.too_short_removed},
                 {"non_text_removed", counts.non_text_removed},
                 {"near_duplicates_removed", counts.near_duplicates_removed},
                 {"pii_masked", counts.pii_masked},
                 {"train_documents", counts.train_documents},
                 {"val_documents", counts.val_documents},
                 {"train_tokens", counts.train_tokens},
                 {"val_tokens", counts.val_tokens}};
  j["filters"] = filters;
  j["tokenizer"] = {{"file", kTokenizerFile},
                    {"hash", tokenizer_hash},
                    {"vocab_size", vocab_size},
                    {"eot_id", eot_id},
                    {"trained", tokenizer_trained}};
  j["dtype"] = dtype;
  j["val_fraction"] = val_fraction;
  j["seed"] = seed;
  j["shard_tokens"] = shard_tokens;
  j["shards"] = json::array();
  for (const auto& s : shards) {
    j["shards"].push_back({{"file", s.file},
                           {"split", s.split},
                           {"tokens", s.tokens},
                           {"documents", s.documents},
                           {"sha256", s.sha256},
                           {"sources", s.sources}});
  }
  return j;
}

Manifest Manifest::from_json(const json& j, const std::string& source) {
  try {
    TESSERA_CHECK(j.value("format", "") == kManifestFormat, "{} is not a Tessera prepare manifest", source);
    const int version = j.at("format_version").get<int>();
    TESSERA_CHECK(version == kManifestFormatVersion,
                  "{}: manifest format version {} is not supported (this build reads {})", source, version,
                  kManifestFormatVersion);
    Manifest m;
    m.tessera_version = j.at("tessera_version").get<std::string>();
    for (const auto& in : j.at("inputs")) {
      m.inputs.push_back({in.at("path").get<std::string>(), in.at("format").get<std::string>(),
                          in.at("bytes").get<uint64_t>(), in.at("sha256").get<std::string>(),
                          in.at("documents").get<uint64_t>(), in.value("documents_kept", uint64_t{0})});
    }
    const auto& c = j.at("counts");
    m.counts.documents_read = c.at("documents_read").get<uint64_t>();
    m.counts.duplicates_removed = c.at("duplicates_removed").get<uint64_t>();
    m.counts.train_documents = c.at("train_documents").get<uint64_t>();
    m.counts.val_documents = c.at("val_documents").get<uint64_t>();
    m.counts.train_tokens = c.at("train_tokens").get<uint64_t>();
    m.counts.val_tokens = c.at("val_tokens").get<uint64_t>();
    m.counts.too_short_removed = c.value("too_short_removed", uint64_t{0});
    m.counts.non_text_removed = c.value("non_text_removed", uint64_t{0});
    m.counts.near_duplicates_removed = c.value("near_duplicates_removed", uint64_t{0});
    m.counts.pii_masked = c.value("pii_masked", std::map<std::string, uint64_t>{});
    m.filters = j.value("filters", json());
    const auto& t = j.at("tokenizer");
    m.tokenizer_hash = t.at("hash").get<std::string>();
    m.vocab_size = t.at("vocab_size").get<uint64_t>();
    m.eot_id = t.at("eot_id").get<uint64_t>();
    m.tokenizer_trained = t.at("trained").get<bool>();
    m.dtype = j.at("dtype").get<std::string>();
    m.val_fraction = j.at("val_fraction").get<double>();
    m.seed = j.at("seed").get<uint64_t>();
    m.shard_tokens = j.at("shard_tokens").get<uint64_t>();
    for (const auto& s : j.at("shards")) {
      m.shards.push_back({s.at("file").get<std::string>(), s.at("split").get<std::string>(),
                          s.at("tokens").get<uint64_t>(), s.at("documents").get<uint64_t>(),
                          s.at("sha256").get<std::string>(), s.value("sources", std::vector<uint64_t>{})});
      for (uint64_t k : m.shards.back().sources) {
        TESSERA_CHECK(k < m.inputs.size(), "{}: shard {} names source {}, but there are {} inputs", source,
                      m.shards.back().file, k, m.inputs.size());
      }
    }
    return m;
  } catch (const json::exception& e) {
    TESSERA_FAIL("{}: malformed manifest: {}", source, e.what());
  }
}

std::vector<std::string> Manifest::shard_paths(const std::string& dir, std::string_view split) const {
  std::vector<std::string> paths;
  for (const auto& s : shards) {
    if (s.split == split) paths.push_back((fs::path(dir) / s.file).string());
  }
  return paths;
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TESSERA_CHECK(out.good(), "cannot create {}", tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    TESSERA_CHECK(out.good(), "cannot write {} (disk full?)", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  TESSERA_CHECK(!ec, "cannot rename {} to {}: {}", tmp, path, ec.message());
}

void save_manifest(const Manifest& manifest, const std::string& dir) {
  write_file_atomically((fs::path(dir) / kManifestFile).string(), manifest.to_json().dump(2) + "\n");
}

Manifest load_manifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kManifestFile).string();
  std::error_code ec;
  TESSERA_CHECK(fs::exists(path, ec), "no prepared data in {}: cannot read {} (run `tessera prepare --out {}`)", dir,
                path, dir);
  return load_manifest_file(path);
}

Manifest load_manifest_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in.good(), "cannot read the manifest {}", path);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    TESSERA_FAIL("{} is not valid JSON: {}", path, e.what());
  }
  return Manifest::from_json(j, path);
}

}  // namespace tessera::datasets
