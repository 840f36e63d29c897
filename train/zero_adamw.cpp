#include "train/zero_adamw.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "train/optimizer.h"

namespace tessera::train {

ZeroAdamW::ZeroAdamW(core::ParamRegistry& params, parallel::GradSync& sync, parallel::Communicator& dp,
                     double weight_decay, parallel::Communicator* tp, double beta1, double beta2, double eps)
    : params_(params), sync_(sync), dp_(dp), tp_(tp) {
  TESSERA_CHECK(params.dtype() == core::DType::f32, "ZeRO-1 keeps fp32 parameters, got {}",
                core::dtype_name(params.dtype()));
  hyper_.weight_decay = weight_decay;
  hyper_.beta1 = beta1;
  hyper_.beta2 = beta2;
  hyper_.eps = eps;
  // Parameter p covers flat elements [starts[p], starts[p+1]).
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < params.size(); ++i) starts.push_back(starts.back() + static_cast<size_t>(params.tensor(i).numel()));
  for (const auto& bucket : sync.buckets()) {
    size_t begin = bucket.begin + bucket.shard.begin;
    const size_t end = begin + bucket.shard.count;
    size_t shard = bucket.shard_offset;
    size_t p = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin()) - 1;
    while (begin < end) {
      const size_t stop = std::min(end, starts[p + 1]);
      runs_.push_back({begin, shard, stop - begin, params.info(p).weight_decay});
      shard += stop - begin;
      begin = stop;
      ++p;
    }
  }
  m_.assign(sync.shard_grads().size(), 0.0f);
  v_.assign(sync.shard_grads().size(), 0.0f);
}

double ZeroAdamW::clip_gradients(double max_norm) {
  std::vector<float>& shards = sync_.shard_grads();
  SquareSums sums;
  for (const auto& b : sync_.buckets()) {
    sums += square_sums(params_, b.begin + b.shard.begin, shards.data() + b.shard_offset, b.shard.count);
  }
  const double norm = global_norm(sums, tp_, &dp_);
  const auto factor = static_cast<float>(clip_factor(norm, max_norm));
  if (factor != 1.0f) {
    for (float& g : shards) g *= factor;
  }
  return norm;
}

std::vector<MomentSpan> ZeroAdamW::moments() {
  std::vector<MomentSpan> spans;
  for (const auto& b : sync_.buckets()) {
    spans.push_back({static_cast<int64_t>(b.begin + b.shard.begin), static_cast<int64_t>(b.shard.count),
                     m_.data() + b.shard_offset, v_.data() + b.shard_offset});
  }
  return spans;
}

void ZeroAdamW::step(double lr) {
  hyper_.lr = lr;
  hyper_.step = ++step_;
  float* flat = params_.flat().data<float>();
  const float* grads = sync_.shard_grads().data();
  for (const Run& r : runs_) {
    core::cpu::adamw_update<float>(flat + r.flat, grads + r.shard, m_.data() + r.shard, v_.data() + r.shard,
                                   static_cast<int64_t>(r.count), hyper_, r.decay);
  }
  // Every bucket's updated shards back to every rank (a separate send buffer: MPI forbids the
  // send part aliasing the receive buffer).
  send_.resize(sync_.shard_grads().size());
  std::vector<std::unique_ptr<parallel::Work>> work;
  for (const auto& b : sync_.buckets()) {
    std::memcpy(send_.data() + b.shard_offset, flat + b.begin + b.shard.begin, b.shard.count * sizeof(float));
    work.push_back(dp_.all_gather(send_.data() + b.shard_offset, flat + b.begin, b.count, core::DType::f32));
  }
  for (auto& w : work) w->wait();
}

}  // namespace tessera::train
