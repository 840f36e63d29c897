// tessera eval (--ckpt REF | --model FILE.gguf|HF_DIR) [...] [--tasks FILE_OR_DIR ...] [--data DIR]
// [--max-items N] --report OUT_DIR: evaluates checkpoints and model files (perplexity,
// multiple-choice and generation tasks) on every rank of the job and writes results.json,
// samples.jsonl, report.md and report.html (docs/evaluation.md).
#include "cli/command.h"
#include "core/log.h"
#include "eval/evaluate.h"

namespace tessera::cli {

void add_eval_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<eval::EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate checkpoints: perplexity, multiple-choice and generation tasks, "
                                 "with a report");
  cmd->add_option("--ckpt", opts->ckpts, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG (repeatable: compared)");
  cmd->add_option("--model", opts->models, "Model file: FILE.gguf or a Hugging Face folder (repeatable; after the "
                  "checkpoints in the report)");
  cmd->add_option("--tasks", opts->tasks,
                  "Task file (JSONL: multiple choice or generation) or directory of them (repeatable; default: "
                  "validation perplexity and the built-in cloze task)");
  cmd->add_option("--data", opts->data_dir, "Prepared data whose validation shards give perplexity and the cloze "
                  "task (default: the checkpoint's training data; required for --model without --tasks)");
  cmd->add_option("--max-tokens", opts->max_tokens, "Generation tasks: tokens to generate for items that give no "
                  "max_tokens (default 32)")->check(CLI::PositiveNumber);
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
