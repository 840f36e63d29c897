// tessera ckpt ls|show|diff|verify|tag: the checkpoint registry of a run. Every command that takes
// a checkpoint accepts a reference: a file, a run directory (its latest) or RUN_DIR:TAG.
#include <fmt/format.h>

#include "checkpoint/inspect.h"
#include "checkpoint/reader.h"
#include "checkpoint/reference.h"
#include "checkpoint/rotation.h"
#include "checkpoint/tags.h"
#include "checkpoint/verify.h"
#include "cli/command.h"
#include "run/config.h"
#include "core/log.h"
#include "run/run_dir.h"
#include "datasets/lineage.h"

namespace tessera::cli {

namespace {

std::string human_bytes(uintmax_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

void add_ls(CLI::App& ckpt, Context& ctx) {
  auto run_dir = std::make_shared<std::string>();
  auto* cmd = ckpt.add_subcommand("ls", "List a run's checkpoints: step, tokens, val loss, size, created, tags");
  cmd->add_option("RUN_DIR", *run_dir, "Run directory (or its checkpoints directory)")->required();
  cmd->callback([&ctx, run_dir] {
    const auto versions = checkpoint::list_versions(*run_dir);
    if (versions.empty()) {
      if (ctx.world.is_root()) log::error("{} holds no checkpoints", *run_dir);
      ctx.exit_code = 1;
      return;
    }
    log::info("{:>10}  {:>14}  {:>9}  {:>10}  {:<20}  {}", "step", "tokens", "val_loss", "size", "created", "tags");
    for (const auto& v : versions) {
      std::vector<std::string> tags = v.tags;
      if (v.latest) tags.insert(tags.begin(), "latest");
      if (!v.error.empty()) {
        log::info("{:>10}  unreadable: {}", v.step, v.error);
        continue;
      }
      log::info("{:>10}  {:>14}  {:>9}  {:>10}  {:<20}  {}", v.step, v.tokens_seen,
                v.val_loss ? fmt::format("{:.4f}", *v.val_loss) : "-", human_bytes(v.bytes), v.created_at,
                fmt::join(tags, ","));
    }
  });
}

// Where the checkpoint's training data came from: the manifest it names by hash, found as the run
// directory's copy or in the data directory of its config.
void show_data(const checkpoint::Header& h) {
  const std::string& sha = h.meta.data_manifest_sha256;
  if (sha.empty()) {
    if (!h.meta.lineage.empty()) log::info("data manifest:    (not recorded in this checkpoint)");
    return;
  }
  std::vector<std::string> candidates = {
      (std::filesystem::path(h.path).parent_path().parent_path() / kDataManifestCopy).string()};
  try {
    const std::string dir = Config::parse(h.meta.config_toml, h.path).data.dir;
    if (!dir.empty()) candidates.push_back((std::filesystem::path(dir) / datasets::kManifestFile).string());
  } catch (const Error&) {
    // The config is shown as it is below; the data directory is only a place to look.
  }
  const auto found = datasets::find_manifest(sha, candidates);
  if (!found) {
    log::info("data manifest:    sha256 {} (no matching manifest at {})", sha, fmt::join(candidates, " or "));
    return;
  }
  log::info("data manifest:    sha256 {} ({})", sha, found->path);
  for (const auto& line : datasets::describe_lineage(found->manifest)) log::info("  {}", line);
}

void add_show(CLI::App& ckpt) {
  auto ref = std::make_shared<std::string>();
  auto* cmd = ckpt.add_subcommand("show", "Print a checkpoint's config, lineage, layout and tensors");
  cmd->add_option("CHECKPOINT", *ref, "File, RUN_DIR or RUN_DIR:TAG")->required();
  cmd->callback([ref] {
    const checkpoint::Header h = checkpoint::read_header(checkpoint::resolve(*ref).string());
    const auto& m = h.meta;
    log::info("file:             {}", h.path);
    log::info("format version:   {}", m.format_version);
    log::info("step:             {}", m.step);
    log::info("tokens seen:      {}", m.tokens_seen);
    if (m.val_loss) log::info("val loss:         {:.6f}", *m.val_loss);
    log::info("created:          {} (tessera {})", m.created_at, m.software_version);
    log::info("layout at save:   dp {} x tp {}{}", m.layout.dp, m.layout.tp, m.layout.zero ? ", ZeRO-1" : "");
    log::info("tokenizer hash:   {}", m.tokenizer_hash.empty() ? "(none)" : m.tokenizer_hash);
    log::info("data lineage:     {}", m.lineage.empty() ? "(none)" : fmt::format("{}", fmt::join(m.lineage, " ")));
    show_data(h);
    log::info("optimizer state:  {}", h.has_optim ? "yes" : "no");
    log::info("config:\n{}", m.config_toml);
    log::info("tensors ({}):", h.model.size());
    int64_t total = 0;
    for (const auto& t : h.model) {
      log::info("  {:<40} {:<14} f32  {}", t.name, core::shape_str(t.shape), core::tp_split_name(t.split));
      total += t.numel();
    }
    log::info("parameters: {}", total);
  });
}

void add_diff(CLI::App& ckpt) {
  auto refs = std::make_shared<std::vector<std::string>>();
  auto* cmd = ckpt.add_subcommand("diff", "Config differences and per-tensor relative L2 difference of two checkpoints");
  cmd->add_option("A B", *refs, "Two checkpoints (file, RUN_DIR or RUN_DIR:TAG)")->required()->expected(2);
  cmd->callback([refs] {
    const std::string a = checkpoint::resolve((*refs)[0]).string(), b = checkpoint::resolve((*refs)[1]).string();
    const auto d = checkpoint::diff(a, b);
    log::info("config: {}", d.config.empty() ? "identical" : fmt::format("{} differences", d.config.size()));
    for (const auto& c : d.config) log::info("  {}", c);
    log::info("tensors (relative L2 difference ||a-b||/||a||):");
    for (const auto& t : d.tensors) {
      if (t.note.empty()) log::info("  {:<48} {:.3e}", t.name, t.relative_l2);
      else log::info("  {:<48} {}", t.name, t.note);
    }
  });
}

// The files `ref` asks to verify: every committed checkpoint of a directory (newest first), or the
// one file a file name or RUN_DIR:TAG names.
std::vector<std::string> files_to_verify(const std::string& ref) {
  if (!std::filesystem::is_directory(ref)) return {checkpoint::resolve(ref).string()};
  std::vector<std::string> files;
  for (const auto& file : checkpoint::candidates(checkpoint::checkpoints_dir(ref))) files.push_back(file.string());
  TESSERA_CHECK(!files.empty(), "{} holds no checkpoints", ref);
  return files;
}

void add_verify(CLI::App& ckpt, Context& ctx) {
  auto ref = std::make_shared<std::string>();
  auto* cmd = ckpt.add_subcommand("verify", "Check checkpoints' structure and every dataset's SHA-256: a file, a tag, or "
                                            "every checkpoint of a run (exit 0 all good, 1 any bad)");
  cmd->add_option("CHECKPOINT", *ref, "File, RUN_DIR or RUN_DIR:TAG")->required();
  cmd->callback([&ctx, ref] {
    std::vector<std::string> files;
    try {
      files = files_to_verify(*ref);
    } catch (const Error& e) {
      if (ctx.world.is_root()) log::error("{}", e.what());
      ctx.exit_code = 1;
      return;
    }
    for (const auto& file : files) {
      const auto r = checkpoint::verify_file(file, &ctx.world);
      if (r.ok()) {
        log::info("{}", r.summary());
      } else {
        if (ctx.world.is_root()) log::error("{}", r.summary());
        ctx.exit_code = 1;
      }
    }
  });
}

void add_tag(CLI::App& ckpt, Context& ctx) {
  struct Args {
    std::string run_dir, name;
    int64_t step = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = ckpt.add_subcommand("tag", "Name a checkpoint of a run (RUN_DIR:NAME then refers to it)");
  cmd->add_option("RUN_DIR", a->run_dir, "Run directory")->required();
  cmd->add_option("STEP", a->step, "Step of the checkpoint")->required();
  cmd->add_option("NAME", a->name, "Tag name")->required();
  cmd->callback([&ctx, a] {
    if (!ctx.world.is_root()) return;
    const auto dir = checkpoint::checkpoints_dir(a->run_dir);
    checkpoint::set_tag(dir, a->name, checkpoint::file_name_for_step(a->step));
    log::info("{}:{} -> {}", a->run_dir, a->name, (dir / checkpoint::file_name_for_step(a->step)).string());
  });
}

}  // namespace

void add_ckpt_command(CLI::App& app, Context& ctx) {
  auto* ckpt = app.add_subcommand("ckpt", "Inspect, verify, compare, tag and convert checkpoints");
  ckpt->require_subcommand(1);
  add_ls(*ckpt, ctx);
  add_show(*ckpt);
  add_diff(*ckpt);
  add_verify(*ckpt, ctx);
  add_tag(*ckpt, ctx);
  add_ckpt_export_commands(*ckpt, ctx);
}

}  // namespace tessera::cli
