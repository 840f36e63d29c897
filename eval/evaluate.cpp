#include "eval/evaluate.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "checkpoint/agree.h"
#include "core/error.h"
#include "core/log.h"
#include "datasets/manifest.h"
#include "eval/eval_model.h"
#include "eval/perplexity.h"

namespace fs = std::filesystem;

namespace tessera::eval {

namespace {

// The report directory, created and checked writable by the root.
void prepare_report_dir(const parallel::World& world, const std::string& dir) {
  checkpoint::agree(&world, [&] {
    if (!world.is_root()) return;
    TESSERA_CHECK(!dir.empty(), "--report: no directory given");
    std::error_code ec;
    fs::create_directories(dir, ec);
    TESSERA_CHECK(!ec && fs::is_directory(dir), "cannot create the report directory {}: {}", dir, ec.message());
    const fs::path probe = fs::path(dir) / ".write-test";
    TESSERA_CHECK(std::ofstream(probe).good(), "cannot write into the report directory {}", dir);
    fs::remove(probe, ec);
  });
}

// The validation shards of the data a checkpoint was trained on.
std::vector<std::string> val_shards(const Config& config, const std::string& file) {
  const std::string& dir = config.data.dir;
  TESSERA_CHECK(!dir.empty(), "checkpoint {} names no training data (data.dir): pass --tasks FILE", file);
  TESSERA_CHECK(fs::path(dir).is_absolute(), "checkpoint {} names its data by the relative path '{}' (a run made "
                "before data.dir was recorded absolute): pass --tasks FILE", file, dir);
  std::vector<std::string> shards = datasets::load_manifest(dir).shard_paths(dir, "val");
  TESSERA_CHECK(!shards.empty(), "the data in {} has no validation shards (prepare it with --val-fraction > 0)", dir);
  for (const std::string& s : shards) TESSERA_CHECK(fs::exists(s), "validation shard {} is missing", s);
  return shards;
}

TaskResult as_task(const std::string& name, const std::string& source, const McResult& r) {
  std::vector<double> right, right_norm;
  for (const ItemResult& item : r.items) {
    right.push_back(item.prediction == item.label ? 1.0 : 0.0);
    right_norm.push_back(item.prediction_norm == item.label ? 1.0 : 0.0);
  }
  return {name, "multiple_choice", source, r.n,
          {{"acc", r.acc, r.acc_stderr, right}, {"acc_norm", r.acc_norm, r.acc_norm_stderr, right_norm}}, r.items};
}

TaskResult as_task(const std::string& source, const PerplexityResult& p) {
  return {"val_perplexity", "perplexity", source, p.windows,
          {{"mean_loss", p.mean_loss, p.mean_loss_stderr, p.window_loss},
           {"perplexity", p.perplexity, p.perplexity_stderr, p.window_perplexity},
           {"bits_per_byte", p.bits_per_byte, p.bits_per_byte_stderr, p.window_bits_per_byte}},
          {}};
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<McTask> load_tasks(const parallel::World& world, const EvalOptions& options) {
  std::vector<McTask> files;
  checkpoint::agree(&world, [&] {
    for (const std::string& given : options.tasks) {
      for (const std::string& file : task_files(given)) files.push_back(load_task(file));
    }
  });
  return files;
}

// One model on the task files, or with none given on its validation perplexity and the cloze task.
ModelResult score_model(const parallel::World& world, const LoadedModel& m, const std::vector<McTask>& files,
                        const EvalOptions& options) {
  const bool show = options.progress && world.is_root();
  McOptions mc;
  mc.batch_size = options.batch_size;
  mc.max_items = options.max_items;
  mc.progress = show;
  mc.batch_invariant = options.batch_invariant;
  const std::string& data_dir = m.config->data.dir;
  ModelResult result{m.ref, m.file, m.meta, {}};
  std::vector<McTask> tasks = files;
  if (options.tasks.empty()) {
    std::vector<std::string> shards;
    McTask cloze{"cloze", "builtin:cloze", {}};
    checkpoint::agree(&world, [&] {
      shards = val_shards(*m.config, m.file);
      ClozeOptions co = options.cloze;
      if (options.max_items > 0) co.items = options.max_items;
      cloze.items = make_cloze(shard_documents(shards, *m.tokenizer), co);
      cloze.path = "builtin:cloze (" + data_dir + ", seed " + std::to_string(co.seed) + ")";
    });
    PerplexityOptions po;
    po.batch_size = options.batch_size;
    po.max_windows = options.max_items;
    po.progress = show;
    po.batch_invariant = options.batch_invariant;
    po.weights = options.weights;
    const auto bytes = token_byte_counts(*m.tokenizer, m.config->model.vocab_size);
    const auto t0 = std::chrono::steady_clock::now();
    const PerplexityResult p = perplexity(*m.model, *m.dp, shards, bytes, po);
    result.tasks.push_back(as_task(data_dir, p));
    result.tasks.back().seconds = seconds_since(t0);
    log::info("{}: val_perplexity ({} weights): loss {:.4f} ± {:.4f}, perplexity {:.3f}, {:.4f} bits/byte ({} windows)", m.ref,
              serve::weight_precision_name(options.weights), p.mean_loss, p.mean_loss_stderr, p.perplexity, p.bits_per_byte, p.windows);
    tasks.insert(tasks.begin(), cloze);
  }
  for (const McTask& task : tasks) {
    const auto t0 = std::chrono::steady_clock::now();
    const McResult r = score_task(*m.model, *m.dp, *m.tokenizer, task, mc);
    result.tasks.push_back(as_task(task.name, task.path, r));
    result.tasks.back().seconds = seconds_since(t0);
    log::info("{}: {}: acc {:.4f} ± {:.4f}, acc_norm {:.4f} ± {:.4f} ({} items)", m.ref, task.name, r.acc,
              r.acc_stderr, r.acc_norm, r.acc_norm_stderr, r.n);
  }
  return result;
}

void write_results(const parallel::World& world, const EvalOptions& options, const std::vector<ModelResult>& results) {
  checkpoint::agree(&world, [&] {
    if (world.is_root()) write_report(options.report_dir, results);
  });
}

}  // namespace

std::vector<ModelResult> evaluate(const parallel::World& world, const EvalOptions& options) {
  TESSERA_CHECK(!options.ckpts.empty(), "no checkpoint to evaluate: pass --ckpt REF");
  prepare_report_dir(world, options.report_dir);
  const std::vector<McTask> files = load_tasks(world, options);
  std::vector<ModelResult> results;
  for (const std::string& ref : options.ckpts) {
    EvalModel m(world, ref, options.tp, options.tokenizer);
    log::info("evaluating {} (step {}) on {} rank(s): dp {} x tp {}", m.file(), m.meta().step, world.size(),
              m.topology().dp, m.topology().tp);
    results.push_back(score_model(world, {ref, m.file(), m.meta(), &m.config(), &m.model(), &m.dp(), &m.tokenizer()},
                                  files, options));
  }
  write_results(world, options, results);
  return results;
}

ModelResult evaluate_loaded(const parallel::World& world, const LoadedModel& model, const EvalOptions& options) {
  prepare_report_dir(world, options.report_dir);
  const std::vector<McTask> files = load_tasks(world, options);
  log::info("evaluating {} (step {}) on {} rank(s)", model.ref, model.meta.step, world.size());
  std::vector<ModelResult> results = {score_model(world, model, files, options)};
  write_results(world, options, results);
  return results.front();
}

}  // namespace tessera::eval
