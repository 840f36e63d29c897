// tessera eval --ckpt REF [--ckpt REF ...] [--tasks FILE_OR_DIR ...] [--max-items N] --report OUT_DIR:
// evaluates checkpoints (perplexity, multiple-choice tasks) on every rank of the job and writes
// results.json, samples.jsonl and report.md (docs/evaluation.md).
#include "cli/command.h"
#include "core/log.h"
#include "eval/evaluate.h"

namespace tessera::cli {

void add_eval_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<eval::EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate checkpoints: perplexity and multiple-choice tasks, with a report");
  cmd->add_option("--ckpt", opts->ckpts, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG (repeatable: compared)")
      ->required();
  cmd->add_option("--tasks", opts->tasks,
                  "Multiple-choice task file (JSONL) or directory of them (repeatable; default: validation "
                  "perplexity and the built-in cloze task)");
  cmd->add_option("--report", opts->report_dir, "Directory for results.json, samples.jsonl and report.md")->required();
  cmd->add_option("--max-items", opts->max_items, "Score at most N items (windows for perplexity) per task (0: all)");
  cmd->add_option("--batch-size", opts->batch_size, "Sequences per forward pass (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--tp", opts->tp, "Tensor-parallel ranks per model replica (default 1)")->check(CLI::PositiveNumber);
  cmd->add_flag("--fast", [opts](int64_t) { opts->batch_invariant = false; },
                "The BLAS forward pass (several times faster on CPU); results may then differ in the last digits "
                "between rank counts");
  add_weights_option(*cmd, opts->weights);
  cmd->add_option("--tokenizer", opts->tokenizer, "Tokenizer file (default: the run's tokenizer.json, else its data's)");
  cmd->add_option("--cloze-seed", opts->cloze.seed, "Seed of the built-in cloze task (default 1234)");
  cmd->add_option("--cloze-choices", opts->cloze.choices, "Choices per cloze item (default 4)");
  cmd->callback([&ctx, opts] {
    eval::evaluate(ctx.world, *opts);
    log::info("report: {}/report.md, {}/results.json", opts->report_dir, opts->report_dir);
  });
}

}  // namespace tessera::cli
