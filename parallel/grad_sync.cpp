#include "parallel/grad_sync.h"

#include <algorithm>

#include "core/cpu/bf16_round.h"
#include "core/error.h"

namespace tessera::parallel {

GradSync::GradSync(Communicator& dp, float* grads, const std::vector<size_t>& param_sizes, size_t bucket_bytes,
                   Mode mode, core::DType wire)
    : dp_(dp), grads_(grads), mode_(mode), bucket_of_param_(param_sizes.size()),
      wire_(dp.size() == 1 ? core::DType::f32 : wire) {
  TESSERA_CHECK(!param_sizes.empty(), "gradient sync needs at least one parameter");
  TESSERA_CHECK(wire == core::DType::f32 || wire == core::DType::bf16, "gradient sync sends f32 or bf16, not {}",
                core::dtype_name(wire));
  std::vector<size_t> offsets(param_sizes.size());
  size_t total = 0;
  for (size_t i = 0; i < param_sizes.size(); ++i) {
    offsets[i] = total;
    total += param_sizes[i];
  }
  // Buckets from the last parameter backwards, closed once they reach bucket_bytes.
  const size_t bucket_elems = std::max<size_t>(1, bucket_bytes / sizeof(float));
  size_t end = param_sizes.size();
  while (end > 0) {
    size_t first = end, count = 0;
    while (first > 0 && (count == 0 || count + param_sizes[first - 1] <= bucket_elems)) {
      count += param_sizes[--first];
    }
    Bucket b;
    b.begin = offsets[first];
    b.count = count;
    b.first_param = first;
    b.n_params = end - first;
    for (size_t p = first; p < end; ++p) bucket_of_param_[p] = buckets_.size();
    buckets_.push_back(b);
    end = first;
  }
  size_t shard_total = 0;
  for (Bucket& b : buckets_) {
    b.shard = shard_range(b.count, dp_.size(), dp_.rank());
    b.shard_offset = shard_total;
    shard_total += b.shard.count;
  }
  if (mode_ == Mode::reduce_scatter) shard_grads_.resize(shard_total);
  if (wire_ == core::DType::bf16) {
    wire_grads_.resize(total);
    if (mode_ == Mode::reduce_scatter) wire_shards_.resize(shard_total);
  }
  pending_.resize(buckets_.size());
}

void GradSync::begin_sync() {
  syncing_ = true;
  next_launch_ = 0;
  launched_before_finish_ = 0;
  work_.clear();
  for (size_t b = 0; b < buckets_.size(); ++b) pending_[b] = buckets_[b].n_params;
}

void GradSync::mark_ready(size_t index) {
  if (!syncing_) return;  // not the last micro-step: gradients only accumulate
  TESSERA_CHECK(index < bucket_of_param_.size(), "parameter {} is outside the {} registered", index,
                bucket_of_param_.size());
  const size_t b = bucket_of_param_[index];
  TESSERA_CHECK(pending_[b] > 0, "parameter {} was marked ready twice in one step", index);
  --pending_[b];
  // Collectives must start in the same order on every rank: launch ready buckets in bucket order.
  while (next_launch_ < buckets_.size() && pending_[next_launch_] == 0) {
    launch(next_launch_++);
    ++launched_before_finish_;
  }
}

void GradSync::launch(size_t bucket) {
  const Bucket& b = buckets_[bucket];
  if (wire_ == core::DType::bf16) {
    uint16_t* wire = wire_grads_.data() + b.begin;
    core::cpu::round_to_bf16(wire, grads_ + b.begin, static_cast<int64_t>(b.count));
    work_.push_back(mode_ == Mode::all_reduce
                        ? dp_.all_reduce(wire, b.count, core::DType::bf16, ReduceOp::sum)
                        : dp_.reduce_scatter(wire, wire_shards_.data() + b.shard_offset, b.count, core::DType::bf16,
                                             ReduceOp::sum));
    return;
  }
  if (mode_ == Mode::all_reduce) {
    work_.push_back(dp_.all_reduce(grads_ + b.begin, b.count, core::DType::f32, ReduceOp::sum));
  } else {
    work_.push_back(dp_.reduce_scatter(grads_ + b.begin, shard_grads_.data() + b.shard_offset, b.count,
                                       core::DType::f32, ReduceOp::sum));
  }
}

void GradSync::finish() {
  TESSERA_CHECK(syncing_, "GradSync::finish without begin_sync");
  while (next_launch_ < buckets_.size()) launch(next_launch_++);
  for (auto& w : work_) w->wait();
  work_.clear();
  syncing_ = false;
  if (dp_.size() == 1) return;  // the sum is the mean: no pass over the gradients
  const float scale = 1.0f / static_cast<float>(dp_.size());
  if (wire_ == core::DType::bf16 && mode_ == Mode::all_reduce) {
    for (const Bucket& b : buckets_) {
      core::cpu::widen_from_bf16(grads_ + b.begin, wire_grads_.data() + b.begin, static_cast<int64_t>(b.count), scale);
    }
  } else if (wire_ == core::DType::bf16) {
    core::cpu::widen_from_bf16(shard_grads_.data(), wire_shards_.data(), static_cast<int64_t>(shard_grads_.size()), scale);
  } else if (mode_ == Mode::all_reduce) {
    for (const Bucket& b : buckets_) {
      for (size_t i = 0; i < b.count; ++i) grads_[b.begin + i] *= scale;
    }
  } else {
    for (float& g : shard_grads_) g *= scale;
  }
}

}  // namespace tessera::parallel
