#pragma once
// The options of every command that serves a model on the engine (generate, serve): the model (a
// checkpoint, a GGUF file or a Hugging Face folder: serve/model_source.h), its tokenizer and the engine's memory and batching settings; and those of the HTTP front.
#include <CLI/CLI.hpp>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "serve/engine.h"
#include "serve/model_loader.h"
#include "serve/model_source.h"
#include "server/serve_http.h"

namespace tessera::cli {

struct EngineFlags {
  serve::ModelRef source;
  int64_t kv_cache_mb = 256, max_step_tokens = 256;
  bool no_batch_invariant = false;
  serve::WeightPrecision weights = serve::WeightPrecision::f32;
  std::optional<core::DType> kv_dtype;

  serve::EngineOptions options() const {
    TESSERA_CHECK(source.ckpt.empty() != source.model.empty(), "give --ckpt REF or --model FILE");
    TESSERA_CHECK(kv_cache_mb >= 1, "--kv-cache-mb must be >= 1, got {}", kv_cache_mb);
    TESSERA_CHECK(max_step_tokens >= 1, "--max-step-tokens must be >= 1, got {}", max_step_tokens);
    return {.kv_cache_bytes = kv_cache_mb << 20,
            .batch_invariant = !no_batch_invariant,
            .weights = weights,
            .kv_dtype = kv_dtype,
            .scheduler = {.max_step_tokens = max_step_tokens}};
  }
};

inline void add_engine_flags(CLI::App& cmd, EngineFlags& f) {
  auto* ckpt = cmd.add_option("--ckpt", f.source.ckpt, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG");
  auto* model = cmd.add_option("--model", f.source.model, "Model file: FILE.gguf (f32, f16, q8_0) or a Hugging Face "
                               "folder (config.json, safetensors, tokenizer.json)");
  ckpt->excludes(model);
  cmd.add_option("--tokenizer", f.source.tokenizer, "Tokenizer file (default: the model's own; for a checkpoint "
                 "RUN_DIR/tokenizer.json, else the one beside the training data)");
  cmd.add_option("--kv-cache-mb", f.kv_cache_mb, "KV cache memory budget in MiB (default 256)");
  cmd.add_option("--max-step-tokens", f.max_step_tokens, "Tokens per engine step: prompt chunks and decodes "
                 "(default 256)");
  cmd.add_flag("--no-batch-invariant", f.no_batch_invariant, "BLAS projections: faster batches, but a "
               "request's output may then depend on what shares its batch");
  add_weights_option(cmd, f.weights);
  add_kv_dtype_option(cmd, f.kv_dtype);
}

// The HTTP front's options (serve, and the serve phase of run); cmd_serve.cpp.
struct ServerFlags {
  std::string host = "127.0.0.1", api_key_file, admin_key_file, model_name, audit_log = "tessera-audit.jsonl";
  int port = 8080;
  int64_t max_n = 8;
  int threads = 64;
  server::LoopOptions loop;
  server::ServeSettings settings(const serve::EngineOptions& engine) const;  // checked; reads the key files
};
// Returns the port option (named port_flag: --port, or run's --serve-port).
CLI::Option* add_server_flags(CLI::App& cmd, ServerFlags& f, const std::string& port_flag = "--port");

}  // namespace tessera::cli
