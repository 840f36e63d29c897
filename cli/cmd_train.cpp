// tessera train --config FILE [--run-dir DIR] [--set section.key=value ...]: trains a model; under
// mpirun every rank runs it (dp = ranks / parallel.tp).
#include <cmath>

#include "cli/command.h"
#include "core/log.h"
#include "parallel/config_broadcast.h"
#include "train/trainer.h"

namespace tessera::cli {

void add_train_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config, run_dir;
    std::vector<std::string> overrides;
    bool no_samples = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("train", "Train a model (under mpirun: data-parallel over the ranks)");
  cmd->add_option("--config,-c", opts->config, "TOML config file")->required();
  cmd->add_option("--run-dir", opts->run_dir, "Directory for metrics.jsonl, checkpoints and logs");
  cmd->add_option("--set", opts->overrides, "Override a config key: section.key=value (repeatable)");
  cmd->add_flag("--no-samples", opts->no_samples, "Do not generate sample text at evaluations");
  cmd->callback([&ctx, opts] {
    const Config config = parallel::load_config(ctx.world, opts->config, opts->overrides);
    train::TrainOptions options;
    if (!opts->run_dir.empty()) options.run_dir = opts->run_dir;
    options.samples = !opts->no_samples;
    const train::TrainResult r = train::train(config, ctx.world, options);
    log::info("trained {} steps: final loss {:.4f}, {:.0f} tokens/s", r.steps, r.last_loss, r.tokens_per_s);
    if (!std::isnan(r.last_val_loss) && !std::isnan(r.unigram_entropy)) {
      log::info("final validation loss {:.4f} nats/token; unigram entropy of the validation tokens {:.4f} "
                "nats/token ({:.4f} lower)",
                r.last_val_loss, r.unigram_entropy, r.unigram_entropy - r.last_val_loss);
    }
  });
}

}  // namespace tessera::cli
