#include "train/batches.h"

namespace tessera::train {

namespace {

class ShardBatches final : public BatchSource {
 public:
  ShardBatches(const std::string& dir, const std::string& split, const datasets::LoaderOptions& options)
      : loader_(datasets::Loader::for_split(dir, split, options)) {}
  void next(datasets::Batch& batch) override { loader_.next(batch); }
  datasets::LoaderPosition position() const override { return loader_.position(); }
  void restore(const datasets::LoaderPosition& position) override { loader_.restore(position); }

 private:
  datasets::Loader loader_;
};

uint64_t mix(uint64_t x) {  // SplitMix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class RandomBatches final : public BatchSource {
 public:
  RandomBatches(int64_t vocab, const datasets::LoaderOptions& options)
      : vocab_(static_cast<uint64_t>(vocab)), options_(options) {}

  void next(datasets::Batch& batch) override {
    const size_t B = options_.batch_size, T = options_.seq_len;
    batch.batch_size = B;
    batch.seq_len = T;
    batch.inputs.resize(B * T);
    batch.targets.resize(B * T);
    const uint64_t first = global_batch_ * B * static_cast<uint64_t>(options_.dp_size) +
                           static_cast<uint64_t>(options_.dp_rank) * B;
    for (size_t b = 0; b < B; ++b) {
      const uint64_t key = mix(options_.seed ^ mix(first + b));
      for (size_t t = 0; t <= T; ++t) {
        const auto id = static_cast<int32_t>(mix(key + t) % vocab_);
        if (t < T) batch.inputs[b * T + t] = id;
        if (t > 0) batch.targets[b * T + t - 1] = id;
      }
    }
    ++global_batch_;
  }

  // Random batches have no epochs: the position is the global batch number.
  datasets::LoaderPosition position() const override { return {0, global_batch_}; }
  void restore(const datasets::LoaderPosition& position) override { global_batch_ = position.batch; }

 private:
  uint64_t vocab_;
  datasets::LoaderOptions options_;
  uint64_t global_batch_ = 0;
};

}  // namespace

std::unique_ptr<BatchSource> shard_batches(const std::string& dir, const std::string& split,
                                           const datasets::LoaderOptions& options) {
  return std::make_unique<ShardBatches>(dir, split, options);
}

std::unique_ptr<BatchSource> random_batches(int64_t vocab, const datasets::LoaderOptions& options) {
  return std::make_unique<RandomBatches>(vocab, options);
}

}  // namespace tessera::train
