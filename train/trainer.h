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
//
// What is never lost (docs/training.md): a run directory belongs to one run (a new run there is
// refused unless it resumes or overwrite moves the old files aside); a step whose loss or
// gradient norm is not finite is skipped on every rank, train.max_bad_steps in a row stop the run,
// and a checkpoint is never written from non-finite weights; SIGTERM, SIGINT or SIGUSR1 stop every
// rank at the next step boundary with a checkpoint; an optional step (samples) never costs one.
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "run/config.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/communicator.h"
#include "parallel/topology.h"
#include "parallel/world.h"

namespace tessera::train {

struct TrainResult {
  int64_t steps = 0;              // trained in this call (0: the run was already complete)
  int64_t skipped_steps = 0;      // left out for a non-finite loss or gradient norm
  int stop_signal = 0;            // the signal that stopped the run early, or 0
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

// Test hook (test_hooks.h): rank `rank` sleeps `seconds` at the start of steps first..last.
struct SlowSteps {
  int rank = 0;
  int64_t first = 0, last = 0;
  double seconds = 0;
};

struct TrainOptions {
  // Where metrics and checkpoints go; none: no files. A run directory that holds a checkpoint that
  // verifies is resumed from it (the newest), unless resume is false.
  std::optional<std::filesystem::path> run_dir;
  bool resume = true;
  // With resume false, a run directory that holds an earlier run is refused unless overwrite
  // moves that run's files into RUN_DIR/superseded/ (nothing is deleted).
  bool overwrite = false;
  std::optional<std::string> init_from;          // checkpoint reference: start from its weights, new optimizer
  // Stop cleanly after this many steps of this run (with a checkpoint when there is a run
  // directory); the schedule still follows train.steps, so a later run resumes where this stopped.
  std::optional<int64_t> stop_after;
  bool samples = true;                           // generate text at evaluations
  // Fault injection for tests: the loss seen at this step (1-based) is multiplied by 100, once.
  std::optional<int64_t> spike_at;
  std::optional<SlowSteps> slow;                 // fault injection: a slow rank or step
  bool quiet = false;                            // no progress line or log lines (benchmarks)
};

class Loop;

// A training run that keeps its model after run(): `tessera run` switches the same processes to
// serving on the trained weights, with no reload. Construction checks that the model fits in
// memory, builds the model and its optimizer, and resumes (collective, as run()).
class Trainer {
 public:
  Trainer(const Config& config, const parallel::World& world, const TrainOptions& options);
  ~Trainer();
  TrainResult run();
  core::Transformer& model();                   // this rank's tensor-parallel shards
  const parallel::Topology& topology() const;   // the training layout (dp x tp)
  const std::optional<datasets::Tokenizer>& tokenizer() const;  // the data's; none without data
  const Config& config() const;                 // as trained (data.dir absolute)
  parallel::Communicator& dp();                 // this rank's data-parallel group

 private:
  std::unique_ptr<Loop> loop_;
};

// Trainer(...).run().
TrainResult train(const Config& config, const parallel::World& world, const TrainOptions& options);

}  // namespace tessera::train
