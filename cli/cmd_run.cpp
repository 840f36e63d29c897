// tessera run --config C --run-dir R [--phases train,eval,serve] [--overwrite] [eval options]
// [--prompts FILE [--answers FILE]] [--serve-port P [HTTP options]]: the whole job in one MPI
// process group. Train (resuming as `train` does); optionally evaluate the weights in memory
// (validation perplexity and the cloze task, or --eval-tasks; report in RUN_DIR/eval/ or
// --eval-report); then switch the same processes to serving with no reload: the trained weights
// stay in memory at the training layout; the tensor-parallel group of data-parallel replica 0 runs
// the engine on the prompts (an offline JSONL batch, resumable; rank 0 writes the answers and
// prints a few) and then, with --serve-port, serves HTTP until SIGTERM (server/serve_http.h),
// while the other replicas wait without spinning.
#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/engine_flags.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/eval_model.h"
#include "eval/evaluate.h"
#include "parallel/config_broadcast.h"
#include "serve/batch_file.h"
#include "serve/engine.h"
#include "train/test_hooks.h"
#include "server/serve_http.h"
#include "train/trainer.h"

namespace tessera::cli {

namespace {

// The first `n` answers of an output file, as "custom_id: text" lines.
void print_answers(const std::string& path, int n) {
  std::ifstream in(path);
  for (std::string line; n > 0 && std::getline(in, line); --n) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("response") || !j["response"].is_object()) continue;
    log::info("  [{}] {}", j.value("custom_id", "?"), j["response"]["body"]["choices"][0].value("text", ""));
  }
}

// The eval phase: the weights just trained (those of the run's newest checkpoint, which the train
// phase wrote or resumed from), scored in memory by the training layout's ranks.
void eval_phase(const parallel::World& world, train::Trainer& trainer, const std::string& run_dir,
                eval::EvalOptions options) {
  TESSERA_CHECK(trainer.tokenizer().has_value(), "the eval phase needs the tokenizer of the run's data (data.dir)");
  const eval::DescribedCheckpoint ckpt = eval::describe_checkpoint(world, run_dir);
  if (options.report_dir.empty()) options.report_dir = run_dir + "/eval";
  const eval::LoadedModel model{run_dir + " (in memory)", ckpt.file, ckpt.meta, &trainer.config(), &trainer.model(),
                                &trainer.dp(), &*trainer.tokenizer()};
  eval::evaluate_loaded(world, model, options);
  log::info("eval: report {}/report.html, {}/results.json", options.report_dir, options.report_dir);
}

// The offline batch of `prompts`: replica 0 answers, rank 0 writes `answers` and prints a few.
// False when the batch had bad lines.
bool answer_prompts(const parallel::World& world, train::Trainer& trainer, const std::string& prompts,
                    const std::string& answers, const serve::SamplingParams& sample,
                    const serve::EngineOptions& engine_options) {
  std::string done_json;
  if (world.is_root()) done_json = nlohmann::json(serve::finished_ids(answers)).dump();
  world.broadcast(done_json);
  const auto done = nlohmann::json::parse(done_json).get<std::set<std::string>>();
  const parallel::Topology& topo = trainer.topology();
  log::info("serve: switching the {} rank(s) to serving with the weights in memory; replica 0 ({} rank(s), tp {}) "
            "runs the engine on {}", world.size(), topo.tp, topo.tp, prompts);
  bool ok = true;
  if (topo.dp_rank == 0) {
    serve::Engine engine(trainer.model(), *trainer.tokenizer(), engine_options);
    const serve::BatchReport report = serve::run_batch_file(
        engine, *trainer.tokenizer(), prompts, world.is_root() ? answers : "", sample, done);
    if (world.is_root()) {
      for (const std::string& e : report.errors) log::error("{}: {}", prompts, e);
      log::info("serve: {} answered, {} already in {}, {} bad lines; the first answers:", report.completed,
                report.skipped, answers, report.errors.size());
      print_answers(answers, 3);
    }
    ok = report.errors.empty();
  }
  world.idle_barrier();
  return ok;
}

}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config, run_dir, prompts, answers, phases = "train,serve";
    std::vector<std::string> overrides;
    serve::SamplingParams sample;
    int64_t kv_cache_mb = 256;
    serve::WeightPrecision weights = serve::WeightPrecision::f32;
    bool overwrite = false;
    eval::EvalOptions eval;
    ServerFlags server;
  };
  auto o = std::make_shared<Options>();
  o->sample.max_tokens = 32;
  auto* cmd = app.add_subcommand("run", "Train, evaluate and serve from the same processes with no reload (one MPI job)");
  add_config_options(*cmd, o->config, o->overrides);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (checkpoints, metrics, answers)")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Start afresh, moving an earlier run in RUN_DIR aside (as train)");
  cmd->add_option("--phases", o->phases, "Phases in order: train, eval, serve (default train,serve)");
  cmd->add_option("--eval-tasks", o->eval.tasks, "Eval phase: task files (multiple choice or generation) or directories (default: "
                  "validation perplexity and the built-in cloze task)");
  cmd->add_option("--eval-max-items", o->eval.max_items, "Eval phase: at most N items (windows) per task (0: all)");
  cmd->add_option("--eval-report", o->eval.report_dir, "Eval phase: report directory (default RUN_DIR/eval)");
  cmd->add_option("--prompts", o->prompts, "Serve phase: a JSONL batch ({\"custom_id\", \"body\": {\"prompt\", ...}})");
  cmd->add_option("--answers", o->answers, "Serve phase: results JSONL (default RUN_DIR/answers.jsonl)");
  cmd->add_option("--max-tokens", o->sample.max_tokens, "Serve phase: default tokens per answer (default 32)");
  cmd->add_option("--temperature", o->sample.temperature, "Serve phase: default temperature (0: greedy)");
  cmd->add_option("--kv-cache-mb", o->kv_cache_mb, "Serve phase: KV cache budget in MiB (default 256)");
  add_weights_option(*cmd, o->weights);
  auto* http = add_server_flags(*cmd, o->server, "--serve-port");
  http->description("Serve phase: serve HTTP on this port (OpenAI-compatible API) after the prompts, until SIGTERM");
  cmd->callback([&ctx, o, http] {
    const parallel::World& world = ctx.world;
    const bool train = o->phases.find("train") != std::string::npos;
    const bool evaluate = o->phases.find("eval") != std::string::npos;
    const bool serve = o->phases.find("serve") != std::string::npos;
    TESSERA_CHECK(train || evaluate || serve, "--phases names no phase (train, eval, serve): '{}'", o->phases);
    const bool serve_http = http->count() > 0;
    TESSERA_CHECK(!serve || !o->prompts.empty() || serve_http, "the serve phase needs --prompts FILE or --serve-port P");
    o->sample.validate();
    const Config config = parallel::load_config(world, o->config, o->overrides);
    train::TrainOptions options;
    options.run_dir = o->run_dir;
    options.resume = !o->overwrite;
    options.overwrite = o->overwrite;
    train::apply_test_hooks(options);  // fault injection for tests (train/test_hooks.h)
    train::Trainer trainer(config, world, options);
    if (train) {
      const train::TrainResult r = trainer.run();
      if (r.stop_signal != 0) {
        ctx.exit_code = 128 + r.stop_signal;
        return;  // stopped with a checkpoint: no serving
      }
      if (r.steps > 0) log::info("trained {} steps: final loss {:.4f}, validation loss {:.4f}", r.steps, r.last_loss,
                                 r.last_val_loss);
    }
    if (evaluate) eval_phase(world, trainer, o->run_dir, o->eval);
    if (!serve) return;
    TESSERA_CHECK(trainer.tokenizer().has_value(), "the serve phase needs the tokenizer of the run's data (data.dir)");
    serve::EngineOptions engine_options;
    engine_options.kv_cache_bytes = o->kv_cache_mb << 20;
    engine_options.weights = o->weights;
    const parallel::Topology& topo = trainer.topology();
    if (!o->prompts.empty()) {
      const std::string answers = o->answers.empty() ? o->run_dir + "/answers.jsonl" : o->answers;
      if (!answer_prompts(world, trainer, o->prompts, answers, o->sample, engine_options)) ctx.exit_code = 1;
    }
    if (serve_http) {
      log::info("serve: HTTP from the {} rank(s) with the weights in memory; replica 0 ({} rank(s), tp {}) runs the "
                "engine", world.size(), topo.tp, topo.tp);
      server::serve_http(world, o->server.settings(engine_options), [&] {
        return server::Served{topo.dp_rank == 0 ? &trainer.model() : nullptr, &*trainer.tokenizer(),
                              o->server.model_name.empty() ? o->run_dir : o->server.model_name, o->run_dir, {},
                              topo.dp == 1, nullptr};
      });
    }
  });
}

}  // namespace tessera::cli
