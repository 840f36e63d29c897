#pragma once
// Where training batches come from: the prepared shards (a datasets::Loader) or, when the config
// names no data, seeded random tokens (benchmarks, tests). Both follow the loader's rule: global
// batch g holds B*dp sequences and data-parallel rank r takes B of them, so the global batch does
// not depend on the layout.
#include <cstdint>
#include <memory>
#include <string>

#include "datasets/loader.h"

namespace tessera::train {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void next(datasets::Batch& batch) = 0;  // (B, T) inputs and targets of this rank
  // Where the next batch comes from; restoring it replays the same batches (checkpoints).
  virtual datasets::LoaderPosition position() const = 0;
  virtual void restore(const datasets::LoaderPosition& position) = 0;
};

// Shards of `split` ("train" or "val") in a prepared directory.
std::unique_ptr<BatchSource> shard_batches(const std::string& dir, const std::string& split,
                                           const datasets::LoaderOptions& options);
// Token ids uniform in [0, vocab), a pure function of (seed, global sequence index, position).
std::unique_ptr<BatchSource> random_batches(int64_t vocab, const datasets::LoaderOptions& options);

}  // namespace tessera::train
