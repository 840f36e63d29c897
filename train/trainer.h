#pragma once
// The training loop of one rank. Every rank of the job runs it with the same config; rank 0 alone
// prints, writes metrics.jsonl and samples.
//
// A step: grad_accum micro-steps of forward + backward on this rank's B sequences, gradients
// scaled by 1/grad_accum and averaged over the data-parallel group in buckets, global-norm
// clipping, the learning rate of the schedule, AdamW. Every eval_interval steps and at the end:
// the validation loss (eval_batches batches, averaged over ranks) and, with a tokenizer, samples.
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
  double step_tokens_per_s = 0;  // the median step's rate (steady state: no warm-up, no evaluation)
  double flops_per_token = 0;    // training FLOPs per token of the model (forward + backward)
  std::vector<double> losses;    // per step (the global mean), for tests and reports
};

struct TrainOptions {
  std::optional<std::filesystem::path> run_dir;  // where metrics and samples go (rank 0); none: no files
  bool samples = true;                           // generate text at evaluations
  bool quiet = false;                            // no progress line or log lines (benchmarks)
};

TrainResult train(const Config& config, const parallel::World& world, const TrainOptions& options);

}  // namespace tessera::train
