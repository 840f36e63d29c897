// tessera bench decode (--ckpt REF | --model FILE | --config FILE [--set k=v]) [--batch 1,4,16] [--prompt-len P]
// [--gen-len G] [--weights f32|bf16|int8] [--kv-cache-dtype auto|f32|bf16]: the serving engine's prompt and decode tokens/s per batch size and decode as a
// fraction of the memory-bandwidth bound (serve/decode_bench.h), one line per batch size:
//   batch=B prompt_tok_s=N decode_tok_s=N bound_fraction=F decode_cpu_tok_s=N
#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "serve/decode_bench.h"
#include "serve/model_source.h"

namespace tessera::cli {

void add_bench_decode(CLI::App& bench, Context&) {
  struct Options {
    serve::ModelRef ref;
    std::string config;
    std::vector<std::string> overrides;
    std::vector<int64_t> batches{1, 4, 16};
    int64_t prompt_len = 128, gen_len = 32;
    uint64_t seed = 1;
    bool no_batch_invariant = false;
    serve::WeightPrecision weights = serve::WeightPrecision::f32;
    std::optional<core::DType> kv_dtype;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("decode", "Serving engine: prompt and decode tokens/s per batch size, decode as "
                                             "a fraction of the memory-bandwidth bound");
  auto* ckpt = cmd->add_option("--ckpt", opts->ref.ckpt, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG");
  auto* model_file = cmd->add_option("--model", opts->ref.model, "Model file: FILE.gguf or a Hugging Face folder");
  auto* config = cmd->add_option("--config,-c", opts->config, "TOML config: its model, randomly initialised");
  cmd->add_option("--set", opts->overrides, "Override a config key: section.key=value (repeatable)");
  ckpt->excludes(config);
  ckpt->excludes(model_file);
  model_file->excludes(config);
  cmd->add_option("--batch", opts->batches, "Batch sizes (default 1,4,16)")->delimiter(',');
  cmd->add_option("--prompt-len", opts->prompt_len, "Prompt tokens per request (default 128)");
  cmd->add_option("--gen-len", opts->gen_len, "Generated tokens per request (default 32)");
  cmd->add_option("--seed", opts->seed, "Initialisation seed of a --config model (default 1)");
  cmd->add_flag("--no-batch-invariant", opts->no_batch_invariant, "BLAS projections instead of fixed-order dot "
                "products (outputs then depend on the batch in their last bits)");
  add_weights_option(*cmd, opts->weights);
  add_kv_dtype_option(*cmd, opts->kv_dtype);
  cmd->callback([opts, ckpt, model_file, config] {
    TESSERA_CHECK(ckpt->count() + model_file->count() + config->count() == 1,
                  "give --ckpt REF, --model FILE or --config FILE");
    std::unique_ptr<core::Transformer> loaded;
    if (config->count() > 0) {
      loaded = std::make_unique<core::Transformer>(Config::load(opts->config, opts->overrides).model);
      loaded->init_weights(opts->seed);
    } else {
      serve::ModelSource source = serve::load_model_source(opts->ref);
      loaded = serve::shard_model(source, nullptr);
    }
    core::Transformer& model = *loaded;
    const ModelConfig& mc = model.config();
    const double bw = serve::memory_read_gbs();
    log::info("{} family, {} layers, d_model {}, vocab {}: {:.1f} M parameters ({:.0f} MB f32); memory read {:.1f} GB/s",
              mc.family, mc.n_layer, mc.d_model, mc.vocab_size, static_cast<double>(model.num_params()) / 1e6,
              static_cast<double>(model.params().numel()) * 4 / 1e6, bw);
    const serve::EngineOptions options{
        .batch_invariant = !opts->no_batch_invariant, .weights = opts->weights, .kv_dtype = opts->kv_dtype};
    for (int64_t b : opts->batches) {
      const serve::DecodeBenchRow r = serve::bench_decode(model, b, opts->prompt_len, opts->gen_len, bw, options);
      if (b == opts->batches.front()) {
        log::info("{} weights: a decode step reads {:.0f} MB; {} KV cache", serve::weight_precision_name(opts->weights),
                  static_cast<double>(r.weight_bytes) / 1e6, core::dtype_name(options.kv_cache_dtype()));
      }
      log::info("batch={} prompt_tok_s={:.1f} decode_tok_s={:.2f} bound_fraction={:.3f} decode_cpu_tok_s={:.2f}",
                r.batch, r.prompt_tok_s, r.decode_tok_s, r.bound_fraction, r.decode_cpu_tok_s);
    }
  });
}

}  // namespace tessera::cli
