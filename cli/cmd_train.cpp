// tessera train --config FILE [--run-dir DIR] [--set section.key=value ...] [--init-from REF]:
// trains a model; under mpirun every rank runs it (dp = ranks / parallel.tp). A run directory with
// checkpoints is resumed from its newest one that verifies; --overwrite moves an earlier run aside.
#include <cmath>

#include "cli/command.h"
#include "core/log.h"
#include "parallel/config_broadcast.h"
#include "train/test_hooks.h"
#include "train/trainer.h"

namespace tessera::cli {

void add_train_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config, run_dir, init_from;
    std::vector<std::string> overrides;
    bool no_samples = false, no_resume = false, overwrite = false;
    int64_t stop_after = 0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("train", "Train a model (under mpirun: data-parallel over the ranks)");
  add_config_options(*cmd, opts->config, opts->overrides);
  cmd->add_option("--run-dir", opts->run_dir, "Directory for metrics.jsonl, checkpoints and logs");
  cmd->add_flag("--no-samples", opts->no_samples, "Do not generate sample text at evaluations");
  cmd->add_option("--init-from", opts->init_from,
                  "Start from a checkpoint's weights with a new optimizer (FILE, RUN_DIR or RUN_DIR:TAG)");
  cmd->add_flag("--no-resume", opts->no_resume,
                "Never resume: refuse a run directory that holds an earlier run (see --overwrite)");
  cmd->add_flag("--overwrite", opts->overwrite,
                "Start afresh in a run directory that holds an earlier run, moving its files to RUN_DIR/superseded/ "
                "(nothing is deleted)");
  cmd->add_option("--stop-after", opts->stop_after,
                  "Stop cleanly after N steps of this run, with a checkpoint (resume later with the same command)");
  cmd->callback([&ctx, opts] {
    const Config config = parallel::load_config(ctx.world, opts->config, opts->overrides);
    train::TrainOptions options;
    if (!opts->run_dir.empty()) options.run_dir = opts->run_dir;
    options.samples = !opts->no_samples;
    options.resume = !opts->no_resume && !opts->overwrite;
    options.overwrite = opts->overwrite;
    if (!opts->init_from.empty()) options.init_from = opts->init_from;
    if (opts->stop_after > 0) options.stop_after = opts->stop_after;
    train::apply_test_hooks(options);  // fault injection for tests (train/test_hooks.h)
    const train::TrainResult r = train::train(config, ctx.world, options);
    if (r.stop_signal != 0) ctx.exit_code = 128 + r.stop_signal;  // stopped early, as a shell reports a signal
    if (r.steps == 0) return;
    log::info("trained {} steps{}: final loss {:.4f}, {:.0f} tokens/s", r.steps,
              r.skipped_steps > 0 ? fmt::format(" ({} skipped as non-finite)", r.skipped_steps) : "", r.last_loss,
              r.tokens_per_s);
    if (!std::isnan(r.last_val_loss) && !std::isnan(r.unigram_entropy)) {
      const double gain = r.unigram_entropy - r.last_val_loss;
      log::info("final validation loss {:.4f} nats/token; unigram entropy of the validation tokens {:.4f} "
                "nats/token ({:.4f} {})",
                r.last_val_loss, r.unigram_entropy, std::abs(gain), gain >= 0 ? "lower" : "higher");
    }
  });
}

}  // namespace tessera::cli
