#pragma once
// The training loop of one rank. Every rank of the job runs it with the same config; rank 0 alone
// prints, writes metrics.jsonl and samples.
//
// A step: grad_accum micro-steps of forward + backward on this rank's B sequences, gradients
// scaled by 1/grad_accum and averaged over the data-parallel group in buckets, global-norm
// clipping, the learning rate of the schedule, AdamW. Every eval_interval steps and at the end:
// the validation loss (eval_batches batches, averaged over ranks) and, with a tokenizer, samples.
// Every checkpoint.every steps and at the end (with a run directory): an HDF5 checkpoint of the
// weights, AdamW state and data position, from which a later run resumes bit for bit.
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/config.h"
#include "parallel/world.h"

namespace tessera::train {

struct TrainResult {
  int64_t steps = 0;
  double last_loss = NAN;
  double last_val_loss = NAN;    // NaN when there is no validation data
  double unigram_entropy = NAN;  // of the validation tokens; NaN without data
  double tokens_per_s = 0;       // mean over the run, all ranks together
  double step_seconds = 0;       // the median step's time on this rank (steady state: no evaluation)
  double step_tokens_per_s = 0;  // the median step's rate, all ranks together
  std::vector<double> sync_waits;  // per step, this rank's wait for the data-parallel gradient sync
                                   // after backward (s)
  double flops_per_token = 0;    // training FLOPs per token of the model (forward + backward)
  std::vector<double> losses;    // per step (the global mean), for tests and reports
};

struct TrainOptions {
  // Where metrics and checkpoints go; none: no files. A run directory that holds a checkpoint that
  // verifies is resumed from it (the newest), unless resume is false.
  std::optional<std::filesystem::path> run_dir;
  bool resume = true;
  std::optional<std::string> init_from;          // checkpoint reference: start from its weights, new optimizer
  // Stop cleanly after this many steps of this run (with a checkpoint when there is a run
  // directory); the schedule still follows train.steps, so a later run resumes where this stopped.
  std::optional<int64_t> stop_after;
  bool samples = true;                           // generate text at evaluations
  bool quiet = false;                            // no progress line or log lines (benchmarks)
};

TrainResult train(const Config& config, const parallel::World& world, const TrainOptions& options);

}  // namespace tessera::train
