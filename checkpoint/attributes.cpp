#include "checkpoint/attributes.h"

#include "checkpoint/h5io.h"
#include "core/sha256.h"

namespace tessera::checkpoint::attributes {

namespace {
core::TpSplit split_from_name(const std::string& name, const std::string& what) {
  for (auto s : {core::TpSplit::replicated, core::TpSplit::column, core::TpSplit::row, core::TpSplit::vocab}) {
    if (core::tp_split_name(s) == name) return s;
  }
  TESSERA_FAIL("{}: unknown tp_split '{}'", what, name);
}
}  // namespace

void write_meta(hid_t file, const Meta& meta, const std::string& path) {
  using h5io::write_attr;
  write_attr(file, "format", std::string(kFormat), path);
  write_attr(file, "format_version", int64_t{meta.format_version}, path);
  write_attr(file, "config", meta.config_json, path);
  write_attr(file, "config_toml", meta.config_toml, path);
  write_attr(file, "step", meta.step, path);
  write_attr(file, "tokens_seen", static_cast<int64_t>(meta.tokens_seen), path);
  write_attr(file, "tokenizer_hash", meta.tokenizer_hash, path);
  write_attr(file, "lineage", nlohmann::json(meta.lineage).dump(), path);
  if (!meta.data_manifest_sha256.empty()) write_attr(file, "data_manifest_sha256", meta.data_manifest_sha256, path);
  write_attr(file, "layout_dp", int64_t{meta.layout.dp}, path);
  write_attr(file, "layout_tp", int64_t{meta.layout.tp}, path);
  write_attr(file, "layout_zero", int64_t{meta.layout.zero ? 1 : 0}, path);
  write_attr(file, "created_at", meta.created_at, path);
  write_attr(file, "software_version", meta.software_version, path);
  if (meta.val_loss) write_attr(file, "val_loss", *meta.val_loss, path);
  write_attr(file, "attributes_sha256", sha256_hex(meta.to_json().dump()), path);
}

Meta read_meta(hid_t file, const std::string& path) {
  using h5io::read_int_attr;
  using h5io::read_string_attr;
  TESSERA_CHECK(h5io::has_attr(file, "format"), "{} is not a Tessera checkpoint: attribute 'format' is missing", path);
  nlohmann::json j;
  j["format"] = read_string_attr(file, "format", path);
  TESSERA_CHECK(j["format"] == kFormat, "{} is not a Tessera checkpoint (format '{}')", path, j["format"].get<std::string>());
  j["format_version"] = read_int_attr(file, "format_version", path);
  j["config"] = read_string_attr(file, "config", path);
  j["config_toml"] = read_string_attr(file, "config_toml", path);
  j["step"] = read_int_attr(file, "step", path);
  j["tokens_seen"] = static_cast<uint64_t>(read_int_attr(file, "tokens_seen", path));
  j["tokenizer_hash"] = read_string_attr(file, "tokenizer_hash", path);
  try {
    j["lineage"] = nlohmann::json::parse(read_string_attr(file, "lineage", path));
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: attribute 'lineage' is not JSON: {}", path, e.what());
  }
  if (h5io::has_attr(file, "data_manifest_sha256")) {
    j["data_manifest_sha256"] = read_string_attr(file, "data_manifest_sha256", path);
  }
  j["layout"] = {{"dp", read_int_attr(file, "layout_dp", path)},
                 {"tp", read_int_attr(file, "layout_tp", path)},
                 {"zero", read_int_attr(file, "layout_zero", path) != 0}};
  j["created_at"] = read_string_attr(file, "created_at", path);
  j["software_version"] = read_string_attr(file, "software_version", path);
  if (h5io::has_attr(file, "val_loss")) j["val_loss"] = h5io::read_double_attr(file, "val_loss", path);
  Meta meta = Meta::from_json(j, path);
  const std::string stored = read_string_attr(file, "attributes_sha256", path);
  TESSERA_CHECK(sha256_hex(meta.to_json().dump()) == stored,
                "{}: the root attributes do not match their checksum (attributes_sha256): the file is corrupt", path);
  return meta;
}

void write_tensor(hid_t dset, const core::ParamInfo& info, const std::string& what) {
  h5io::write_attr(dset, "dtype", std::string("f32"), what);
  h5io::write_attr(dset, "tp_split", std::string(core::tp_split_name(info.split)), what);
  h5io::write_attr(dset, "segments", nlohmann::json(info.segments).dump(), what);
  h5io::write_attr(dset, "split_unit", info.split_unit, what);
  h5io::write_attr(dset, "weight_decay", int64_t{info.weight_decay ? 1 : 0}, what);
}

core::ParamInfo read_tensor(hid_t dset, const std::string& name, const core::Shape& shape, const std::string& what) {
  core::ParamInfo info;
  info.name = name;
  info.shape = shape;
  const std::string dtype = h5io::read_string_attr(dset, "dtype", what);
  TESSERA_CHECK(dtype == "f32", "{}: stored dtype '{}' is not supported (f32 only)", what, dtype);
  info.split = split_from_name(h5io::read_string_attr(dset, "tp_split", what), what);
  try {
    info.segments = nlohmann::json::parse(h5io::read_string_attr(dset, "segments", what)).get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: attribute 'segments' is not a JSON list of integers: {}", what, e.what());
  }
  info.split_unit = h5io::read_int_attr(dset, "split_unit", what);
  TESSERA_CHECK(info.split_unit >= 1, "{}: split_unit {} must be at least 1", what, info.split_unit);
  info.weight_decay = h5io::read_int_attr(dset, "weight_decay", what) != 0;
  return info;
}

}  // namespace tessera::checkpoint::attributes
