#include "eval/evaluate.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "checkpoint/agree.h"
#include "core/error.h"
#include "core/log.h"
#include "datasets/manifest.h"
#include "eval/eval_model.h"
#include "eval/generation.h"
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

// The validation shards of the prepared data in `dir` (--data, or the checkpoint's data.dir).
std::vector<std::string> val_shards(const std::string& dir, const std::string& file) {
  TESSERA_CHECK(!dir.empty(), "{} names no training data (data.dir; a --model file carries none): pass --data DIR "
                "(prepared data with validation shards) or --tasks FILE", file);
  TESSERA_CHECK(fs::path(dir).is_absolute(), "checkpoint {} names its data by the relative path '{}' (a run made "
                "before data.dir was recorded absolute): pass --data DIR or --tasks FILE", file, dir);
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

TaskResult as_task(const std::string& name, const std::string& source, const GenResult& r) {
  std::vector<double> exact, f1;
  for (const GenItemResult& item : r.items) {
    exact.push_back(item.exact_match);
    f1.push_back(item.f1);
  }
  TaskResult t{name, "generation", source, r.n,
               {{"exact_match", r.exact_match, r.exact_match_stderr, exact}, {"f1", r.f1, r.f1_stderr, f1}}, {}};
  t.generations = r.items;
  return t;
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

std::vector<Task> load_tasks(const parallel::World& world, const EvalOptions& options) {
  std::vector<Task> files;
  checkpoint::agree(&world, [&] {
    for (const std::string& given : options.tasks) {
      for (const std::string& file : task_files(given)) files.push_back(load_any_task(file));
    }
  });
  return files;
}

// One model on the task files, or with none given on its validation perplexity and the cloze task.
ModelResult score_model(const parallel::World& world, const LoadedModel& m, const std::vector<Task>& files,
                        const EvalOptions& options) {
  const bool show = options.progress && world.is_root();
  McOptions mc;
  mc.batch_size = options.batch_size;
  mc.max_items = options.max_items;
  mc.progress = show;
  mc.batch_invariant = options.batch_invariant;
  GenOptions gen;
  gen.batch_size = options.batch_size;
  gen.max_items = options.max_items;
  gen.max_tokens = options.max_tokens;
  gen.progress = show;
  gen.batch_invariant = options.batch_invariant;
  const std::string data_dir = options.data_dir.empty() ? m.config->data.dir
                                                        : fs::absolute(options.data_dir).lexically_normal().string();
  ModelResult result{m.ref, m.file, m.meta, {}};
  std::vector<Task> tasks = files;
  if (options.tasks.empty()) {
    std::vector<std::string> shards;
    McTask cloze{"cloze", "builtin:cloze", {}};
    checkpoint::agree(&world, [&] {
      shards = val_shards(data_dir, m.file);
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
  for (const Task& any : tasks) {
    const auto t0 = std::chrono::steady_clock::now();
    if (const auto* task = std::get_if<McTask>(&any)) {
      const McResult r = score_task(*m.model, *m.dp, *m.tokenizer, *task, mc);
      result.tasks.push_back(as_task(task->name, task->path, r));
      log::info("{}: {}: acc {:.4f} ± {:.4f}, acc_norm {:.4f} ± {:.4f} ({} items)", m.ref, task->name, r.acc,
                r.acc_stderr, r.acc_norm, r.acc_norm_stderr, r.n);
    } else {
      const GenTask& g = std::get<GenTask>(any);
      const GenResult r = run_generation(*m.model, *m.dp, *m.tokenizer, g, gen);
      result.tasks.push_back(as_task(g.name, g.path, r));
      log::info("{}: {}: exact_match {:.4f} ± {:.4f}, f1 {:.4f} ± {:.4f} ({} items)", m.ref, g.name, r.exact_match,
                r.exact_match_stderr, r.f1, r.f1_stderr, r.n);
    }
    result.tasks.back().seconds = seconds_since(t0);
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
  TESSERA_CHECK(!options.ckpts.empty() || !options.models.empty(),
                "nothing to evaluate: pass --ckpt REF or --model FILE.gguf|HF_DIR");
  TESSERA_CHECK(options.models.empty() || !options.tasks.empty() || !options.data_dir.empty(),
                "--model {} carries no lineage of its training data: pass --data DIR (prepared data with validation "
                "shards, for perplexity and the cloze task) or --tasks FILE", options.models.front());
  prepare_report_dir(world, options.report_dir);
  const std::vector<Task> files = load_tasks(world, options);
  std::vector<ModelResult> results;
  const auto score = [&](const std::string& ref, EvalModel& m) {
    log::info("evaluating {} (step {}) on {} rank(s): dp {} x tp {}", m.file(), m.meta().step, world.size(),
              m.topology().dp, m.topology().tp);
    results.push_back(score_model(world, {ref, m.file(), m.meta(), &m.config(), &m.model(), &m.dp(), &m.tokenizer()},
                                  files, options));
  };
  for (const std::string& ref : options.ckpts) {
    EvalModel m(world, ref, options.tp, options.tokenizer);
    score(ref, m);
  }
  for (const std::string& file : options.models) {
    score(file, *EvalModel::from_model_file(world, file, options.tp, options.tokenizer));
  }
  write_results(world, options, results);
  return results;
}

ModelResult evaluate_loaded(const parallel::World& world, const LoadedModel& model, const EvalOptions& options) {
  prepare_report_dir(world, options.report_dir);
  const std::vector<Task> files = load_tasks(world, options);
  log::info("evaluating {} (step {}) on {} rank(s)", model.ref, model.meta.step, world.size());
  std::vector<ModelResult> results = {score_model(world, model, files, options)};
  write_results(world, options, results);
  return results.front();
}

}  // namespace tessera::eval
