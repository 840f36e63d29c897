#include "checkpoint/checkpoint.h"

#include <future>

#include <fmt/format.h>

#include "checkpoint/agree.h"
#include "checkpoint/commit.h"
#include "checkpoint/digest_check.h"
#include "checkpoint/reader.h"
#include "checkpoint/reference.h"
#include "checkpoint/tags.h"
#include "checkpoint/verify.h"
#include "checkpoint/writer.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

namespace {

// Every rank gets the root's value of `meta` (created_at is read from the root's clock).
Meta root_meta(const parallel::World& world, const Meta& meta) {
  std::string bytes = meta.to_json().dump();
  world.broadcast(bytes);
  return Meta::from_json(nlohmann::json::parse(bytes), "checkpoint metadata");
}

// Differences between the model sections of two configs, as "model.key: checkpoint A, config B".
std::vector<std::string> model_differences(const std::string& file_config_json, const Config& config,
                                           const std::string& path) {
  nlohmann::json saved;
  try {
    saved = nlohmann::json::parse(file_config_json).at("model");
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: the stored config is not valid JSON: {}", path, e.what());
  }
  const nlohmann::json current = nlohmann::json::parse(config.to_json()).at("model");
  std::vector<std::string> diffs;
  for (const auto& [key, value] : current.items()) {
    const auto it = saved.find(key);
    if (it == saved.end()) {
      diffs.push_back(fmt::format("model.{}: missing in the checkpoint, config {}", key, value.dump()));
    } else if (*it != value) {
      diffs.push_back(fmt::format("model.{}: checkpoint {}, config {}", key, it->dump(), value.dump()));
    }
  }
  return diffs;
}

// The file a reference names: rank 0 resolves it (verifying directory references) and tells the
// others.
Resolved resolve_agreed(const parallel::World& world, const std::string& ref) {
  std::string bytes;
  agree(&world, [&] {
    if (!world.is_root()) return;
    const Resolved r = resolve_checked(ref);
    bytes = (r.verified ? "1" : "0") + r.file.string();
  });
  world.broadcast(bytes);
  return {bytes.substr(1), bytes[0] == '1'};
}

// Reads the header and checks it against the model, agreed by every rank; the file's digest has
// been checked (check_before_parsing).
Header open_checked(const parallel::World& world, const std::string& path, const Config& config,
                    const std::vector<core::ParamInfo>& infos, bool need_optim) {
  Header header;
  agree(&world, [&] {
    header = read_header(path, /*digest_checked=*/true);
    const auto diffs = model_differences(header.meta.config_json, config, header.path);
    TESSERA_CHECK(diffs.empty(), "{} was saved from a different model: {}", header.path, fmt::join(diffs, "; "));
    check_tensors(header, infos);
    TESSERA_CHECK(!need_optim || header.has_optim, "{} holds weights only, not the optimizer state", header.path);
  });
  return header;
}

void verify_or_throw(const parallel::World* world, const std::string& path) {
  const VerifyResult r = verify_file(path, world);
  if (r.ok()) return;
  const std::string message = fmt::format("checkpoint {} failed verification: {}", path, fmt::join(r.problems, "; "));
  if (world && world->size() > 1) throw CollectiveError(message);
  throw Error(message);
}

// The file's bytes checked against its digest by all the ranks before any lets HDF5 parse it, and
// with `verify` every dataset against its checksum too; nothing again for a file that resolving
// has just verified.
void check_before_parsing(const parallel::World& world, const Resolved& file, bool verify) {
  if (file.verified) return;
  const std::string path = file.file.string();
  if (verify) {
    verify_or_throw(&world, path);
  } else {
    check_file_digest(&world, path);
  }
}

}  // namespace

fs::path save_checkpoint(const parallel::World& world, const parallel::Topology& topo, const fs::path& dir,
                         const SaveRequest& request, const SaveOptions& options) {
  Meta meta = request.meta;
  meta.format_version = kFormatVersion;
  meta.layout = {topo.dp, topo.tp, request.m && request.m->partitioned_over_dp};
  meta.created_at = utc_now_iso8601();
  meta.software_version = software_version();
  meta = root_meta(world, meta);

  FileContent content;
  agree(&world, [&] {
    TESSERA_CHECK(request.m.has_value() == request.v.has_value(), "checkpoint save: give both moments or neither");
    TESSERA_CHECK(fs::is_directory(dir), "checkpoint save: {} is not a directory", dir.string());
    TESSERA_CHECK(meta.step >= 0, "checkpoint save: negative step {}", meta.step);
  });
  content.meta = meta;
  content.infos = request.infos;
  content.sets.push_back({"model", request.params});
  if (request.m) {
    content.sets.push_back({"optim/m", *request.m});
    content.sets.push_back({"optim/v", *request.v});
    content.optim_step = request.optim_step;
  }
  content.loader_json = request.loader.to_json().dump();
  content.rng_json = request.rng.dump();

  const std::string name = file_name_for_step(meta.step);
  fs::path tmp = dir / name;
  tmp += ".tmp";
  Timings timings;
  if (options.at) options.at(SavePoint::begin);
  write_file(world, topo, tmp.string(), content);
  if (options.at) options.at(SavePoint::written);
  timings.lap("write");
  // Rank 0 makes the data durable while the ranks hash it; the fsync after the checksums then has
  // only their attributes left to write.
  std::future<void> data_synced;
  if (world.is_root()) data_synced = std::async(std::launch::async, [&tmp] { fsync_path(tmp); });
  std::vector<DigestRange> datasets = record_checksums(world, tmp.string(), content);
  timings.lap("checksums");
  agree(&world, [&] {
    if (!world.is_root()) return;
    data_synced.get();
    fsync_path(tmp);
  });
  timings.lap("fsync");
  if (options.at) options.at(SavePoint::synced);
  world.barrier();
  agree(&world, [&] {
    if (!world.is_root()) return;
    commit(dir, tmp, name, std::move(datasets), options.at);
    Validity fresh;
    Validity& validity = options.validity ? *options.validity : fresh;
    validity.trust(dir / name);
    std::set<std::string> tagged;
    for (const auto& [tag, file] : read_tags(dir)) tagged.insert(file);
    const Rotation r = rotate(dir, options.keep, name, tagged, validity);
    for (const auto& gone : r.deleted) log::info("checkpoint: removed {}", gone.string());
    for (const auto& bad : r.quarantined) log::warn("checkpoint: {} does not verify: moved aside", bad.string());
  });
  timings.lap("commit");
  if (options.timings) *options.timings = timings;
  return dir / name;
}

TrainingState load_training_state(const parallel::World& world, const parallel::Topology& topo, const std::string& ref,
                                  const Config& config, const LoadRequest& request) {
  agree(&world, [&] {
    TESSERA_CHECK(request.m.has_value() == request.v.has_value(), "checkpoint load: ask for both moments or neither");
  });
  Timings timings;
  const Resolved resolved = resolve_agreed(world, ref);
  const std::string path = resolved.file.string();
  check_before_parsing(world, resolved, request.verify);
  timings.lap(request.verify ? "verify" : "digest");
  const Header header = open_checked(world, path, config, request.infos, request.m.has_value());
  timings.lap("header");
  read_tensors(&world, topo, header.path, "model", request.infos, request.params);
  if (request.m) {
    read_tensors(&world, topo, header.path, "optim/m", request.infos, *request.m);
    read_tensors(&world, topo, header.path, "optim/v", request.infos, *request.v);
  }
  TrainingState state;
  state.file = header.path;
  state.meta = header.meta;
  agree(&world, [&] {
    const StateFields s = read_state(header.path);
    state.optim_step = s.optim_step;
    try {
      state.loader = datasets::LoaderPosition::from_json(nlohmann::json::parse(s.loader_json));
      state.rng = nlohmann::json::parse(s.rng_json);
    } catch (const nlohmann::json::exception& e) {
      TESSERA_FAIL("{}: /state is not valid JSON: {}", header.path, e.what());
    }
  });
  timings.lap("read");
  if (request.timings) *request.timings = timings;
  return state;
}

Meta read_weights(const parallel::World& world, const parallel::Topology& topo, const std::string& ref,
                  const Config& config, const std::vector<core::ParamInfo>& infos, const Holding& params, bool verify) {
  const Resolved resolved = resolve_agreed(world, ref);
  const std::string path = resolved.file.string();
  check_before_parsing(world, resolved, verify);
  const Header header = open_checked(world, path, config, infos, false);
  read_tensors(&world, topo, header.path, "model", infos, params);
  return header.meta;
}

Weights load_weights(const std::string& ref, bool verify) {
  const Resolved resolved = resolve_checked(ref);
  const fs::path path = resolved.file;
  if (verify && !resolved.verified) verify_or_throw(nullptr, path.string());  // the digest, then every dataset
  const Header header = read_header(path.string(), /*digest_checked=*/verify || resolved.verified);
  Weights w{path, header.meta, Config::parse(header.meta.config_toml, path.string() + " (config_toml)"),
            core::ParamRegistry(header.model, core::DType::f32)};
  read_tensors(nullptr, parallel::Topology{}, header.path, "model", header.model,
               Holding::whole(w.params.flat().data<float>(), w.params.numel()));
  return w;
}

Resumable find_resumable(const parallel::World& world, const fs::path& run_dir) {
  std::string listing;
  if (world.is_root()) {
    for (const auto& file : candidates(checkpoints_dir(run_dir))) listing += file.string() + "\n";
  }
  world.broadcast(listing);
  Resumable found;
  size_t start = 0;
  while (start < listing.size()) {
    const size_t end = listing.find('\n', start);
    const std::string path = listing.substr(start, end - start);
    start = end + 1;
    const VerifyResult r = verify_file(path, &world);
    if (r.ok()) {
      found.file = path;
      break;
    }
    if (world.is_root()) {
      const fs::path moved = quarantine(path);
      log::warn("checkpoint {} is not usable, trying an older one (moved to {}): {}", path, moved.string(),
                fmt::join(r.problems, "; "));
      found.quarantined.push_back(moved);
    }
  }
  std::string moved;  // every rank learns what rank 0 moved aside
  for (const auto& q : found.quarantined) moved += q.string() + "\n";
  world.broadcast(moved);
  found.quarantined.clear();
  for (size_t at = 0; at < moved.size();) {
    const size_t end = moved.find('\n', at);
    found.quarantined.emplace_back(moved.substr(at, end - at));
    at = end + 1;
  }
  return found;
}

}  // namespace tessera::checkpoint
