#pragma once
// Loader: (B, T) batches of int32 inputs and targets from the token shards of one split.
//
// Sampling rule (deterministic, independent of the data-parallel layout):
//   - the split's token stream is its shards concatenated, N tokens;
//   - window w covers tokens [w*T, w*T + T + 1): W = (N - 1) / T windows of T+1 tokens, stride T;
//   - each epoch orders the windows by a permutation seeded by (seed, epoch) (identity when
//     shuffle is off, as for validation);
//   - global batch g of an epoch is permutation entries [g*B*dp, (g+1)*B*dp); data-parallel rank r
//     takes its B consecutive entries from r*B. An epoch has floor(W / (B*dp*accum)) * accum
//     batches, a whole number of optimizer steps of `accum` micro-batches (the rest of the windows
//     wait for another epoch's order), so splitting a step into micro-batches changes nothing;
//   - inputs are a window's first T tokens, targets its last T (inputs shifted by one).
// So the global batch is the same for any dp, and a saved position restores the exact stream.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/shard.h"

namespace tessera::datasets {

// Where the loader is: the next batch is batch `batch` of epoch `epoch`.
struct LoaderPosition {
  uint64_t epoch = 0;
  uint64_t batch = 0;

  nlohmann::json to_json() const;
  static LoaderPosition from_json(const nlohmann::json& j);
  bool operator==(const LoaderPosition&) const = default;
};

struct LoaderOptions {
  size_t batch_size = 1;  // B: sequences per data-parallel rank
  size_t seq_len = 0;     // T
  uint64_t seed = 0;
  bool shuffle = true;    // false: windows in order (validation)
  int dp_rank = 0;
  int dp_size = 1;
  size_t grad_accum = 1;  // micro-batches per optimizer step: epochs end on a step boundary
};

struct Batch {
  size_t batch_size = 0, seq_len = 0;
  std::vector<int32_t> inputs;   // (B, T)
  std::vector<int32_t> targets;  // (B, T): inputs shifted left by one token
};

class Loader {
 public:
  // Shards of one split, in stream order; they must share one tokenizer.
  Loader(const std::vector<std::string>& shard_paths, const LoaderOptions& options);
  // The shards of `split` ("train" or "val") listed in dir/manifest.json.
  static Loader for_split(const std::string& dir, std::string_view split, const LoaderOptions& options);

  // Fills `batch` with this rank's part of the next global batch and advances the position.
  void next(Batch& batch);
  Batch next();

  LoaderPosition position() const { return position_; }
  void restore(const LoaderPosition& position);  // the next batch is the one at `position`
  void reset() { restore({}); }

  uint64_t num_tokens() const { return starts_.back(); }
  uint64_t num_windows() const { return windows_; }
  uint64_t batches_per_epoch() const { return batches_per_epoch_; }
  const ShardMeta& meta() const { return shards_.front().meta(); }

 private:
  void read_window(uint64_t window, int32_t* out) const;  // out: (T+1,)
  void order_epoch(uint64_t epoch);

  LoaderOptions options_;
  std::vector<ShardReader> shards_;
  std::vector<uint64_t> starts_;  // (S+1,): shard s holds stream tokens [starts_[s], starts_[s+1])
  uint64_t windows_ = 0, batches_per_epoch_ = 0;
  std::vector<uint64_t> order_;   // (W,) this epoch's window order; empty when not shuffling
  uint64_t ordered_epoch_ = 0;
  LoaderPosition position_;
  std::vector<int32_t> window_;   // (T+1,) scratch
};

}  // namespace tessera::datasets
