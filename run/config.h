#pragma once
// The run configuration: one TOML file per run, overridden by `--set section.key=value`.
// Unknown keys and wrong types are errors naming the key and the file. Rank 0 parses and
// validates it and broadcasts the canonical TOML text (to_toml) to the other ranks.
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model_config.h"

namespace tessera {

struct DataConfig {
  std::string dir;  // prepared shards (tessera prepare --out DIR); empty means random tokens
};

struct TrainConfig {
  int64_t batch_size = 8;   // sequences per rank per micro-step
  int64_t grad_accum = 1;   // micro-steps per optimizer step
  int64_t steps = 1000;
  double lr = 3e-4;
  double min_lr = 3e-5;     // end of the cosine decay
  int64_t warmup_steps = 100;
  double weight_decay = 0.1;
  double grad_clip = 1.0;   // global L2 norm; 0 disables clipping
  int64_t eval_interval = 100;
  int64_t eval_batches = 20;  // validation batches per evaluation
  uint64_t seed = 1337;
  // "cpu" or "cuda": where the training step runs (docs/gpu.md); "cuda" needs a CUDA build and a
  // visible GPU per rank.
  std::string device = "cpu";
  // Consecutive steps whose loss or gradient norm is not finite (skipped: no update) after which
  // the run stops, its last good checkpoint intact.
  int64_t max_bad_steps = 5;
  // Loss spikes (train/spike_detector.h): a loss this many standard deviations above the mean of
  // the last spike_window steps rolls back to the newest checkpoint and skips the data since; 0
  // disables it.
  double spike_zscore = 0;
  int64_t spike_window = 100;
  // "fp32" or "bf16": bf16 GEMMs with fp32 master weights, optimizer state and gradients
  // (docs/training.md, Precision).
  std::string precision = "fp32";
};

struct ParallelConfig {
  int64_t tp = 1;     // tensor-parallel ranks; dp = world size / tp
  bool zero = false;  // ZeRO-1: shard optimizer state across data-parallel ranks
  double timeout_s = 300;     // a collective not done by then stops the job
  double bucket_mb = 4;       // data-parallel gradient bucket size (MiB)
  bool overlap = true;        // launch gradient buckets during backward (false: after it)
  // "fp32" or "bf16": the data-parallel gradient sync's wire (bf16: half the bytes; grad_sync.h)
  std::string sync_precision = "fp32";
};

struct CheckpointConfig {
  int64_t every = 0;  // steps between checkpoints; 0 disables periodic checkpoints
  double every_minutes = 0;  // wall time between checkpoints (rank 0's clock); 0 disables
  int64_t keep = 3;   // newest checkpoints kept
};

// Run monitoring (docs/evaluation.md): every `interval` steps rank 0 writes RUN_DIR/metrics.prom,
// the ranks' busy times per step are gathered (stragglers) and throughput is compared with the
// intervals before; a watchdog thread on every rank flags a step running far past the recent median.
struct MonitorConfig {
  int64_t interval = 10;          // steps between gathers, throughput checks and metrics.prom updates
  double straggler_ratio = 1.5;   // a rank busier per step than this times the median of the others
  double throughput_drop = 0.5;   // an interval below this fraction of the previous intervals' median tokens/s
  double hang_factor = 10;        // a step running longer than this times the median of recent steps ...
  double hang_min_s = 60;         // ... and longer than this many seconds
  double peak_tflops = 0;         // per rank, for MFU in metrics and reports (0: no MFU)
};

struct Config {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  ParallelConfig parallel;
  CheckpointConfig checkpoint;
  MonitorConfig monitor;

  // Parses TOML text; `source` names the file in errors. Overrides are "section.key=value".
  static Config parse(const std::string& toml_text, const std::string& source,
                      const std::vector<std::string>& overrides = {});
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Every key, canonical and complete: parse(to_toml()) gives back the same config.
  std::string to_toml() const;
  std::string to_json() const;
  // Cross-field rules (d_model divisible by n_head, ...); throws tessera::Error naming the key.
  void validate(const std::string& source) const;
};

}  // namespace tessera
