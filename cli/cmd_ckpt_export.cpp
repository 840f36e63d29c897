// tessera ckpt {export-gguf, export-hf, import-hf}: checkpoints to and from other formats.
//   export-gguf REF OUT.gguf [--dtype f32|f16|bf16|q8_0]  a GGUF file llama.cpp runs
//   export-hf REF OUT_DIR                            a Hugging Face model directory
//   import-hf HF_DIR RUN_DIR                         a Hugging Face model as a Tessera checkpoint
// Single-process commands (one process reads or writes everything). Formats and name maps:
// docs/interchange.md.
#include <filesystem>
#include <fstream>
#include <optional>

#include "checkpoint/checkpoint.h"
#include "checkpoint/run_tokenizer.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "run/run_dir.h"
#include "datasets/manifest.h"
#include "interchange/gguf_export.h"
#include "interchange/hf_export.h"
#include "interchange/hf_import.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

void require_single_process(const Context& ctx, const char* command) {
  TESSERA_CHECK(ctx.world.size() == 1, "tessera ckpt {} runs in one process: start it without mpirun or srun",
                command);
}

void add_export_gguf(CLI::App& ckpt, Context& ctx) {
  auto* cmd = ckpt.add_subcommand("export-gguf", "Write a checkpoint as a GGUF file for llama.cpp");
  struct Args {
    std::string ref, out, dtype = "f32", tokenizer, name = "tessera";
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("REF", a->ref, "Checkpoint: a file, RUN_DIR, or RUN_DIR:TAG")->required();
  cmd->add_option("OUT", a->out, "The GGUF file to write")->required();
  cmd->add_option("--dtype", a->dtype, "Matrix weights: f32, f16, bf16 or q8_0 (norms and biases stay f32)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}))
      ->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer file (default: the run's or its data's tokenizer.json)");
  cmd->add_option("--name", a->name, "general.name in the file")->capture_default_str();
  cmd->callback([&ctx, a] {
    require_single_process(ctx, "export-gguf");
    const checkpoint::Weights w = checkpoint::load_weights(a->ref);
    const auto tok = checkpoint::find_tokenizer(w, a->tokenizer);
    TESSERA_CHECK(tok.has_value(), "checkpoint {} has no tokenizer beside it: give --tokenizer FILE (GGUF files "
                  "carry their vocabulary)", w.file.string());
    interchange::export_gguf(w.config.model, w.params, *tok, a->out,
                            {.dtype = interchange::gguf::tensor_type_from_name(a->dtype), .name = a->name});
    log::info("wrote {} ({} {}, {} weights, step {})", a->out, w.config.model.family, a->dtype, w.params.numel(),
              w.meta.step);
  });
}

void add_export_hf(CLI::App& ckpt, Context& ctx) {
  auto* cmd = ckpt.add_subcommand("export-hf", "Write a checkpoint as a Hugging Face model directory");
  struct Args {
    std::string ref, out, tokenizer;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("REF", a->ref, "Checkpoint: a file, RUN_DIR, or RUN_DIR:TAG")->required();
  cmd->add_option("OUT_DIR", a->out, "Directory for config.json, model.safetensors, tokenizer.json")->required();
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer file (default: the run's or its data's tokenizer.json)");
  cmd->callback([&ctx, a] {
    require_single_process(ctx, "export-hf");
    const checkpoint::Weights w = checkpoint::load_weights(a->ref);
    const auto tok = checkpoint::find_tokenizer(w, a->tokenizer);
    if (!tok) log::warn("no tokenizer found for {}: writing no tokenizer.json", w.file.string());
    interchange::export_hf(w.config.model, w.params, tok ? &*tok : nullptr, a->out);
    log::info("wrote {} ({}, {} weights, step {})", a->out, w.config.model.family, w.params.numel(), w.meta.step);
  });
}

void add_import_hf(CLI::App& ckpt, Context& ctx) {
  auto* cmd = ckpt.add_subcommand("import-hf", "Read a Hugging Face model directory into a new run's checkpoint");
  struct Args {
    std::string hf_dir, run_dir;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("HF_DIR", a->hf_dir, "config.json + model.safetensors (GPT2LMHeadModel, LlamaForCausalLM)")
      ->required();
  cmd->add_option("RUN_DIR", a->run_dir, "Run directory to create (its checkpoints/ must be empty)")->required();
  cmd->callback([&ctx, a] {
    require_single_process(ctx, "import-hf");
    interchange::HfModel hf = interchange::import_hf(a->hf_dir);
    const RunDir run(a->run_dir);
    TESSERA_CHECK(fs::is_empty(run.checkpoints()), "{} already holds checkpoints: import into a new run directory",
                  run.checkpoints().string());
    Config config;
    config.model = hf.config;
    config.validate(a->hf_dir + "/config.json");
    const std::string toml = config.to_toml();
    std::ofstream(run.config_path()) << toml;
    checkpoint::SaveRequest req;
    core::ParamRegistry& params = hf.model->params();
    req.infos = params.infos();
    req.params = checkpoint::Holding::whole(params.flat().data<float>(), params.numel());
    req.meta.config_json = config.to_json();
    req.meta.config_toml = toml;
    if (hf.tokenizer) {
      hf.tokenizer->save((run.path() / datasets::kTokenizerFile).string());
      req.meta.tokenizer_hash = hf.tokenizer->hash();
    }
    const fs::path file = checkpoint::save_checkpoint(ctx.world, parallel::Topology{}, run.checkpoints(), req);
    log::info("wrote {} ({}, {} weights{})", file.string(), hf.config.family, params.numel(),
              hf.tokenizer ? ", tokenizer.json" : "");
  });
}

}  // namespace

void add_ckpt_export_commands(CLI::App& ckpt, Context& ctx) {
  add_export_gguf(ckpt, ctx);
  add_export_hf(ckpt, ctx);
  add_import_hf(ckpt, ctx);
}

}  // namespace tessera::cli
