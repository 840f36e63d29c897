#pragma once
// The `tessera` subcommands. Each file cmd_<name>.cpp adds one subcommand to the root app; its
// callback does the work and stores its exit status in the context. Thin: no algorithms here.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "parallel/world.h"
#include "serve/kv_cache.h"
#include "serve/projection.h"

namespace tessera::cli {

struct Context {
  parallel::World& world;
  int exit_code = 0;
};

void add_info_command(CLI::App& app, Context& ctx);
void add_config_command(CLI::App& app, Context& ctx);
void add_tokenizer_command(CLI::App& app, Context& ctx);
void add_prepare_command(CLI::App& app, Context& ctx);
void add_bench_command(CLI::App& app, Context& ctx);
void add_train_command(CLI::App& app, Context& ctx);
void add_ckpt_command(CLI::App& app, Context& ctx);
void add_generate_command(CLI::App& app, Context& ctx);
void add_serve_command(CLI::App& app, Context& ctx);
void add_eval_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_report_command(CLI::App& app, Context& ctx);
void add_submit_command(CLI::App& app, Context& ctx);
void add_jobs_commands(CLI::App& app, Context& ctx);  // jobs, cancel
// `tessera bench decode`: the serving engine's throughput (cmd_bench_decode.cpp).
void add_bench_decode(CLI::App& bench, Context& ctx);
// `tessera bench serve`: load on an OpenAI-compatible server (cmd_bench_serve.cpp).
void add_bench_serve(CLI::App& bench, Context& ctx);
// Subcommands of `tessera ckpt` that convert to and from other formats (GGUF, Hugging Face).
void add_ckpt_export_commands(CLI::App& ckpt, Context& ctx);

// The options of every command that runs a config: --config FILE (required) and repeatable
// --set section.key=value overrides.
inline void add_config_options(CLI::App& cmd, std::string& config, std::vector<std::string>& overrides,
                               const std::string& config_help = "TOML config file") {
  cmd.add_option("--config,-c", config, config_help)->required();
  cmd.add_option("--set", overrides, "Override a config key: section.key=value (repeatable)");
}

// --weights f32|bf16|int8 of every command that runs the serving engine (serve/projection.h); a
// bad value is an error naming the option.
inline void add_weights_option(CLI::App& cmd, serve::WeightPrecision& weights) {
  cmd.add_option_function<std::string>(
         "--weights", [&weights](const std::string& v) { weights = serve::parse_weight_precision(v); },
         "Projection weights: f32 (default), bf16 or int8 (converted once at load)")
      ->type_name("f32|bf16|int8");
}

// --kv-cache-dtype auto|f32|bf16 (auto, the default, leaves `dtype` unset: it then follows the weights).
inline void add_kv_dtype_option(CLI::App& cmd, std::optional<core::DType>& dtype) {
  cmd.add_option_function<std::string>(
         "--kv-cache-dtype", [&dtype](const std::string& v) { dtype = serve::parse_kv_dtype(v); },
         "KV cache elements: auto (default: f32 beside f32 weights, bf16 beside bf16 and int8), f32 or bf16")
      ->type_name("auto|f32|bf16");
}

}  // namespace tessera::cli
