#include "datasets/loader.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/splitmix.h"
#include "datasets/manifest.h"

namespace tessera::datasets {

nlohmann::json LoaderPosition::to_json() const { return {{"epoch", epoch}, {"batch", batch}}; }

LoaderPosition LoaderPosition::from_json(const nlohmann::json& j) {
  try {
    return {j.at("epoch").get<uint64_t>(), j.at("batch").get<uint64_t>()};
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("malformed loader position {}: {}", j.dump(), e.what());
  }
}

Loader::Loader(const std::vector<std::string>& shard_paths, const LoaderOptions& options) : options_(options) {
  TESSERA_CHECK(!shard_paths.empty(), "the loader has no token shards");
  TESSERA_CHECK(options.batch_size > 0 && options.seq_len > 0, "batch size and sequence length must be positive");
  TESSERA_CHECK(options.dp_size > 0 && options.dp_rank >= 0 && options.dp_rank < options.dp_size,
                "data-parallel rank {} is outside [0, {})", options.dp_rank, options.dp_size);
  starts_.push_back(0);
  for (const auto& path : shard_paths) {
    shards_.emplace_back(path);
    const ShardMeta& first = shards_.front().meta();
    const ShardMeta& m = shards_.back().meta();
    TESSERA_CHECK(m.tokenizer_hash == first.tokenizer_hash && m.vocab_size == first.vocab_size,
                  "{} was tokenized with another tokenizer than {}", path, shard_paths.front());
    starts_.push_back(starts_.back() + shards_.back().num_tokens());
  }
  const uint64_t n = num_tokens(), t = options.seq_len;
  TESSERA_CHECK(n >= t + 1, "the split holds {} tokens, fewer than one window of T+1 = {} tokens", n, t + 1);
  windows_ = (n - 1) / t;
  // An epoch is a whole number of optimizer steps of accum micro-batches of B*dp windows each, so
  // that how a step's windows are split into micro-batches never changes which windows it uses.
  const uint64_t global = static_cast<uint64_t>(options.batch_size) * static_cast<uint64_t>(options.dp_size);
  const uint64_t accum = std::max<uint64_t>(1, options.grad_accum);
  batches_per_epoch_ = windows_ / (global * accum) * accum;
  TESSERA_CHECK(batches_per_epoch_ > 0,
                "the split holds {} windows of {} tokens, fewer than one optimizer step of B*dp*grad_accum = {} "
                "sequences", windows_, t + 1, global * accum);
  window_.resize(t + 1);
  order_epoch(0);
}

Loader Loader::for_split(const std::string& dir, std::string_view split, const LoaderOptions& options) {
  const Manifest manifest = load_manifest(dir);
  const auto paths = manifest.shard_paths(dir, split);
  TESSERA_CHECK(!paths.empty(), "{} has no '{}' shards", dir, split);
  return Loader(paths, options);
}

void Loader::order_epoch(uint64_t epoch) {
  ordered_epoch_ = epoch;
  if (!options_.shuffle) return;
  order_.resize(windows_);
  for (uint64_t i = 0; i < windows_; ++i) order_[i] = i;
  uint64_t state = options_.seed;
  state = splitmix64(state) ^ epoch;
  for (uint64_t i = windows_ - 1; i > 0; --i) {  // Fisher-Yates
    const uint64_t j = splitmix64(state) % (i + 1);
    std::swap(order_[i], order_[j]);
  }
}

void Loader::read_window(uint64_t window, int32_t* out) const {
  uint64_t pos = window * options_.seq_len;
  size_t left = options_.seq_len + 1;
  // The shard holding `pos`, then the next ones while the window continues.
  auto s = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), pos) - starts_.begin() - 1);
  while (left > 0) {
    const uint64_t local = pos - starts_[s];
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, starts_[s + 1] - pos));
    shards_[s].read_tokens(local, take, out);
    out += take;
    pos += take;
    left -= take;
    ++s;
  }
}

void Loader::next(Batch& batch) {
  if (position_.batch == batches_per_epoch_) restore({position_.epoch + 1, 0});
  const size_t b = options_.batch_size, t = options_.seq_len;
  batch.batch_size = b;
  batch.seq_len = t;
  batch.inputs.resize(b * t);
  batch.targets.resize(b * t);
  const uint64_t first = (position_.batch * static_cast<uint64_t>(options_.dp_size) +
                          static_cast<uint64_t>(options_.dp_rank)) * b;
  for (size_t i = 0; i < b; ++i) {
    const uint64_t slot = first + i;
    read_window(options_.shuffle ? order_[slot] : slot, window_.data());
    std::copy(window_.begin(), window_.end() - 1, batch.inputs.begin() + static_cast<std::ptrdiff_t>(i * t));
    std::copy(window_.begin() + 1, window_.end(), batch.targets.begin() + static_cast<std::ptrdiff_t>(i * t));
  }
  ++position_.batch;
}

Batch Loader::next() {
  Batch batch;
  next(batch);
  return batch;
}

void Loader::restore(const LoaderPosition& position) {
  TESSERA_CHECK(position.batch <= batches_per_epoch_, "loader position batch {} is past the {} batches of an epoch",
                position.batch, batches_per_epoch_);
  if (position.epoch != ordered_epoch_) order_epoch(position.epoch);
  position_ = position;
}

}  // namespace tessera::datasets
