#include "checkpoint/format.h"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "core/error.h"

namespace tessera::checkpoint {

nlohmann::ordered_json Meta::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["format_version"] = format_version;
  j["config"] = config_json;
  j["config_toml"] = config_toml;
  j["step"] = step;
  j["tokens_seen"] = tokens_seen;
  j["tokenizer_hash"] = tokenizer_hash;
  j["lineage"] = lineage;
  // Only when set, so that the attributes_sha256 of checkpoints written before it still verify.
  if (!data_manifest_sha256.empty()) j["data_manifest_sha256"] = data_manifest_sha256;
  j["layout"] = {{"dp", layout.dp}, {"tp", layout.tp}, {"zero", layout.zero}};
  j["created_at"] = created_at;
  j["software_version"] = software_version;
  if (val_loss) j["val_loss"] = *val_loss;
  return j;
}

Meta Meta::from_json(const nlohmann::json& j, const std::string& source) {
  Meta m;
  try {
    TESSERA_CHECK(j.value("format", std::string()) == kFormat, "{} is not a Tessera checkpoint (format '{}')",
                  source, j.value("format", std::string()));
    m.format_version = j.at("format_version").get<int>();
    TESSERA_CHECK(m.format_version >= 1 && m.format_version <= kFormatVersion,
                  "{}: checkpoint format version {} is not supported (this build reads 1 to {})", source,
                  m.format_version, kFormatVersion);
    m.config_json = j.at("config").get<std::string>();
    m.config_toml = j.at("config_toml").get<std::string>();
    m.step = j.at("step").get<int64_t>();
    m.tokens_seen = j.at("tokens_seen").get<uint64_t>();
    m.tokenizer_hash = j.at("tokenizer_hash").get<std::string>();
    m.lineage = j.at("lineage").get<std::vector<std::string>>();
    m.data_manifest_sha256 = j.value("data_manifest_sha256", std::string());
    const auto& l = j.at("layout");
    m.layout = {l.at("dp").get<int>(), l.at("tp").get<int>(), l.at("zero").get<bool>()};
    m.created_at = j.at("created_at").get<std::string>();
    m.software_version = j.at("software_version").get<std::string>();
    if (j.contains("val_loss")) m.val_loss = j.at("val_loss").get<double>();
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: bad checkpoint metadata: {}", source, e.what());
  }
  return m;
}

std::string file_name_for_step(int64_t step) { return fmt::format("step-{:08d}.h5", step); }

std::optional<int64_t> step_from_file_name(std::string_view name) {
  constexpr std::string_view prefix = "step-", suffix = ".h5";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  int64_t step = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (ec != std::errc() || end != digits.data() + digits.size() || step < 0) return std::nullopt;
  return step;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string software_version() { return TESSERA_VERSION; }

}  // namespace tessera::checkpoint
