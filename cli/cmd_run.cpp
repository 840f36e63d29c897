// tessera run --config C --run-dir R [--phases train,eval,serve] [--overwrite] [eval options]
// [--prompts FILE [--answers FILE]] [--serve-port P [HTTP options]]: the whole job in one MPI
// process group. Train (resuming as `train` does); optionally evaluate the weights in memory
// (validation perplexity and the cloze task, or --eval-tasks; report in RUN_DIR/eval/ or
// --eval-report); then switch the same processes to serving with no reload: the trained weights
// stay in memory at the training layout; every data-parallel replica (its tensor-parallel group)
// answers its share of the prompts (an offline JSONL batch, resumable; rank 0 writes the answers in
// input order and prints a few) and then, with --serve-port, serves HTTP until SIGTERM
// (server/serve_http.h): a data-parallel layout re-formed into one tensor-parallel group, any
// other layout from replica 0 while the other replicas wait without spinning.
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
#include "serve/model_loader.h"
#include "serve/replica_batch.h"
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

// The offline batch of `prompts`: every data-parallel replica answers its share, rank 0 writes
// `answers` in input order and prints a few. False when the batch had bad lines.
bool answer_prompts(const parallel::World& world, train::Trainer& trainer, const std::string& prompts,
                    const std::string& answers, const serve::SamplingParams& sample,
                    const serve::EngineOptions& engine_options) {
  const parallel::Topology& topo = trainer.topology();
  log::info("serve: switching the {} rank(s) to serving with the weights in memory; {} replica(s) of tp {} answer "
            "{}, each its share of the lines", world.size(), topo.dp, topo.tp, prompts);
  serve::Engine engine(trainer.model(), *trainer.tokenizer(), engine_options);
  const serve::BatchReport report =
      serve::run_batch_replicas(world, topo, engine, *trainer.tokenizer(), prompts, answers, sample);
  if (world.is_root()) {
    for (const std::string& e : report.errors) log::error("{}: {}", prompts, e);
    log::info("serve: {} answered, {} already in {}, {} bad lines; the first answers:", report.completed,
              report.skipped, answers, report.errors.size());
    print_answers(answers, 3);
  }
  std::string ok = report.errors.empty() ? "1" : "0";
  world.broadcast(ok);
  return ok == "1";
}

// The HTTP serve phase. A data-parallel layout (tp 1, every rank holding the whole model) whose
// head counts the world size divides is re-formed into one tensor-parallel group of all ranks,
// each copying out its shard (no reload): one engine behind one HTTP front, on every core. Any
// other layout serves as trained: replica 0's group runs the engine, the other replicas wait.
void serve_http_phase(const parallel::World& world, train::Trainer& trainer, const server::ServeSettings& settings,
                      const std::string& name, const std::string& run_dir) {
  const parallel::Topology& topo = trainer.topology();
  const ModelConfig& mc = trainer.config().model;
  const bool reform = topo.dp > 1 && topo.tp == 1 && mc.n_head % world.size() == 0 && mc.kv_heads() % world.size() == 0;
  std::unique_ptr<serve::ServingModel> group;
  if (reform) {
    group = serve::reshard_serving_model(world, trainer.config(), trainer.model(), name, *trainer.tokenizer());
    log::info("serve: HTTP with the weights in memory; the {} data-parallel replicas re-formed into one tensor-parallel "
              "group of {} rank(s)", topo.dp, world.size());
  } else {
    log::info("serve: HTTP with the weights in memory at the training layout (dp {}, tp {}): replica 0 runs the engine, "
              "the other {} replica(s) wait", topo.dp, topo.tp, topo.dp - 1);
  }
  server::serve_http(world, settings, [&] {
    core::Transformer* model = reform ? group->model.get() : topo.dp_rank == 0 ? &trainer.model() : nullptr;
    // Versions load only where the whole world is one tensor-parallel group.
    return server::Served{model, &*trainer.tokenizer(), name, run_dir, {}, reform || topo.dp == 1, nullptr};
  });
}

}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config, run_dir, prompts, answers, phases = "train,serve";
    std::vector<std::string> overrides;
    serve::SamplingParams sample;
    int64_t kv_cache_mb = 256;
    serve::WeightPrecision weights = serve::WeightPrecision::f32;
    std::optional<core::DType> kv_dtype;
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
  add_kv_dtype_option(*cmd, o->kv_dtype);
  auto* http = add_server_flags(*cmd, o->server, "--serve-port");
  http->description("Serve phase: serve HTTP on this port (OpenAI-compatible API) after the prompts, until SIGTERM");
  cmd->callback([&ctx, o, http, cmd] {
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
    engine_options.kv_dtype = o->kv_dtype;
    if (!o->prompts.empty()) {
      const std::string answers = o->answers.empty() ? o->run_dir + "/answers.jsonl" : o->answers;
      if (!answer_prompts(world, trainer, o->prompts, answers, o->sample, engine_options)) ctx.exit_code = 1;
    }
    // The run's own record of version changes, beside its checkpoints, unless --audit-log says where.
    if (cmd->get_option("--audit-log")->count() == 0) o->server.audit_log = o->run_dir + "/audit.jsonl";
    if (serve_http) serve_http_phase(world, trainer, o->server.settings(engine_options),
                                     o->server.model_name.empty() ? o->run_dir : o->server.model_name, o->run_dir);
  });
}

}  // namespace tessera::cli
