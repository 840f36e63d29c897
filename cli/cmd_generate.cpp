// tessera generate (--ckpt REF | --model FILE.gguf|HF_DIR) (--prompt TEXT | --input IN.jsonl --output
// OUT.jsonl) [sampling options] [--tokenizer FILE] [--kv-cache-mb N] [--weights f32|bf16|int8] [--kv-cache-dtype auto|f32|bf16]: runs a model (a checkpoint, GGUF
// file or Hugging Face folder: serve/model_source.h) on the serving engine (serve/) on the CPU.
// --prompt streams the continuation to stdout as it is generated; --input runs an offline batch
// (serve/batch_file.h) with continuous batching, resumable. Under mpirun the ranks form one
// tensor-parallel group (each holds its shard) and run the same engine; rank 0 prints and writes.
#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/engine_flags.h"
#include "core/error.h"
#include "core/log.h"
#include "run/progress.h"
#include "datasets/tokenizer.h"
#include "serve/batch_file.h"
#include "serve/engine.h"

namespace tessera::cli {

namespace {

int64_t count_lines(const std::string& path) {
  std::ifstream in(path);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find_first_not_of(" \t\r") != std::string::npos;
  return n;
}

}  // namespace

void add_generate_command(CLI::App& app, Context& ctx) {
  struct Options {
    EngineFlags engine;
    std::string prompt, input, output;
    serve::SamplingParams sample;
  };
  auto opts = std::make_shared<Options>();
  opts->sample.max_tokens = 64;
  serve::SamplingParams& s = opts->sample;
  auto* cmd = app.add_subcommand("generate", "Continue prompts with a model (the serving engine)");
  add_engine_flags(*cmd, opts->engine);
  auto* prompt = cmd->add_option("--prompt", opts->prompt, "Text to continue (streamed to stdout)");
  auto* input = cmd->add_option("--input", opts->input, "Offline batch: JSONL requests (custom_id, body.prompt, ...)");
  auto* output = cmd->add_option("--output", opts->output, "Offline batch: JSONL results, appended (resumable)");
  prompt->excludes(input);
  input->needs(output);
  output->needs(input);
  cmd->add_option("--max-tokens", s.max_tokens, "Tokens to generate (default 64; a batch line may override)");
  cmd->add_option("--temperature", s.temperature, "0 for greedy (default), else the sampling temperature");
  cmd->add_option("--top-k", s.top_k, "Sample among the k most likely tokens (0: all)");
  cmd->add_option("--top-p", s.top_p, "Sample among the most likely tokens of total probability p (default 1)");
  cmd->add_option("--min-p", s.min_p, "Drop tokens less likely than min-p times the most likely (default 0)");
  cmd->add_option("--repetition-penalty", s.repetition_penalty, "Penalise tokens of the prompt and output (default 1)");
  cmd->add_option("--presence-penalty", s.presence_penalty, "Subtracted from tokens already generated (default 0)");
  cmd->add_option("--frequency-penalty", s.frequency_penalty, "Subtracted per earlier occurrence (default 0)");
  cmd->add_option("--stop", s.stop, "Stop string (repeatable); it is not part of the output");
  cmd->add_option("--seed", s.seed, "Sampling seed");
  cmd->callback([opts, &ctx, prompt, input] {
    TESSERA_CHECK(prompt->count() + input->count() == 1, "give --prompt TEXT or --input FILE --output FILE");
    opts->sample.validate();
    const serve::EngineOptions engine_options = opts->engine.options();
    const parallel::World& world = ctx.world;
    const auto loaded = serve::load_serving_model(world, opts->engine.source);
    const datasets::Tokenizer& tokenizer = loaded->tokenizer;
    serve::Engine engine(*loaded->model, tokenizer, engine_options);

    if (prompt->count() > 0) {
      std::vector<int32_t> ids;
      for (datasets::TokenId id : tokenizer.encode(opts->prompt)) ids.push_back(static_cast<int32_t>(id));
      TESSERA_CHECK(!ids.empty(), "the prompt is empty");
      engine.add({ids, opts->sample});
      const bool print = world.is_root();
      if (print) std::cout << opts->prompt << std::flush;
      while (!engine.idle()) {
        for (const serve::RequestOutput& o : engine.step()) {
          if (print) std::cout << o.text << std::flush;
        }
      }
      if (print) std::cout << std::endl;
      return;
    }

    // Rank 0 reads (and repairs) the output and tells the others what is done; it alone writes.
    std::string done_json;
    if (world.is_root()) done_json = nlohmann::json(serve::finished_ids(opts->output)).dump();
    world.broadcast(done_json);
    const auto done = nlohmann::json::parse(done_json).get<std::set<std::string>>();
    Progress progress("generate", static_cast<double>(count_lines(opts->input)), "req");
    const serve::BatchReport report = serve::run_batch_file(
        engine, tokenizer, opts->input, serve::file_sink(world.is_root() ? opts->output : ""), opts->sample, done,
        [&](const serve::BatchReport& r) { progress.update(static_cast<double>(r.completed + r.skipped + r.errors.size())); });
    progress.finish();
    if (world.is_root()) {
      for (const std::string& e : report.errors) log::error("{}: {}", opts->input, e);
    }
    log::info("generate: {} completed, {} already in {}, {} bad lines", report.completed, report.skipped,
              opts->output, report.errors.size());
    if (!report.errors.empty()) ctx.exit_code = 1;
  });
}

}  // namespace tessera::cli
