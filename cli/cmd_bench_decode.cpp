// tessera bench decode (--ckpt REF | --config FILE [--set k=v]) [--batch 1,4,16] [--prompt-len P]
// [--gen-len G] [--weights f32|bf16|int8]: the serving engine's prompt and decode tokens/s per batch size and decode as a
// fraction of the memory-bandwidth bound (serve/decode_bench.h), one line per batch size:
//   batch=B prompt_tok_s=N decode_tok_s=N bound_fraction=F decode_cpu_tok_s=N
#include <cstring>

#include "checkpoint/checkpoint.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "serve/decode_bench.h"

namespace tessera::cli {

void add_bench_decode(CLI::App& bench, Context&) {
  struct Options {
    std::string ckpt, config;
    std::vector<std::string> overrides;
    std::vector<int64_t> batches{1, 4, 16};
    int64_t prompt_len = 128, gen_len = 32;
    uint64_t seed = 1;
    bool no_batch_invariant = false;
    serve::WeightPrecision weights = serve::WeightPrecision::f32;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("decode", "Serving engine: prompt and decode tokens/s per batch size, decode as "
                                             "a fraction of the memory-bandwidth bound");
  auto* ckpt = cmd->add_option("--ckpt", opts->ckpt, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG");
  auto* config = cmd->add_option("--config,-c", opts->config, "TOML config: its model, randomly initialised");
  cmd->add_option("--set", opts->overrides, "Override a config key: section.key=value (repeatable)");
  ckpt->excludes(config);
  cmd->add_option("--batch", opts->batches, "Batch sizes (default 1,4,16)")->delimiter(',');
  cmd->add_option("--prompt-len", opts->prompt_len, "Prompt tokens per request (default 128)");
  cmd->add_option("--gen-len", opts->gen_len, "Generated tokens per request (default 32)");
  cmd->add_option("--seed", opts->seed, "Initialisation seed of a --config model (default 1)");
  cmd->add_flag("--no-batch-invariant", opts->no_batch_invariant, "BLAS projections instead of fixed-order dot "
                "products (outputs then depend on the batch in their last bits)");
  add_weights_option(*cmd, opts->weights);
  cmd->callback([opts, ckpt, config] {
    TESSERA_CHECK(ckpt->count() + config->count() == 1, "give --ckpt REF or --config FILE");
    const serve::WeightPrecision precision = opts->weights;
    ModelConfig mc;
    checkpoint::Weights weights;
    if (ckpt->count() > 0) {
      weights = checkpoint::load_weights(opts->ckpt);
      mc = weights.config.model;
    } else {
      mc = Config::load(opts->config, opts->overrides).model;
    }
    core::Transformer model(mc);
    if (ckpt->count() > 0) {
      TESSERA_CHECK(model.params().numel() == weights.params.numel(), "checkpoint '{}' holds {} weights, the model {}",
                    opts->ckpt, weights.params.numel(), model.params().numel());
      std::memcpy(model.params().flat().data<float>(), weights.params.flat().data<float>(),
                  static_cast<size_t>(weights.params.numel()) * sizeof(float));
    } else {
      model.init_weights(opts->seed);
    }
    const double bw = serve::memory_read_gbs();
    log::info("{} family, {} layers, d_model {}, vocab {}: {:.1f} M parameters ({:.0f} MB f32); memory read {:.1f} GB/s",
              mc.family, mc.n_layer, mc.d_model, mc.vocab_size, static_cast<double>(model.num_params()) / 1e6,
              static_cast<double>(model.params().numel()) * 4 / 1e6, bw);
    for (int64_t b : opts->batches) {
      const serve::DecodeBenchRow r = serve::bench_decode(model, b, opts->prompt_len, opts->gen_len, bw,
                                                          !opts->no_batch_invariant, precision);
      if (b == opts->batches.front()) {
        log::info("{} weights: a decode step reads {:.0f} MB", serve::weight_precision_name(precision),
                  static_cast<double>(r.weight_bytes) / 1e6);
      }
      log::info("batch={} prompt_tok_s={:.1f} decode_tok_s={:.2f} bound_fraction={:.3f} decode_cpu_tok_s={:.2f}",
                r.batch, r.prompt_tok_s, r.decode_tok_s, r.bound_fraction, r.decode_cpu_tok_s);
    }
  });
}

}  // namespace tessera::cli
