#pragma once
// Data-parallel gradient synchronisation in buckets, overlapped with the backward pass.
//
// Gradients live in one flat fp32 buffer, parameters one after another in registration order.
// Backward produces them roughly in reverse order, so buckets are runs of consecutive parameters
// taken from the end, each about `bucket_bytes` long and contiguous in the buffer. When every
// parameter of a bucket has been marked ready, its collective starts at once, while backward goes
// on computing earlier layers; finish() waits for all of them.
//
//   Mode::all_reduce       every rank ends with the mean gradient of the whole buffer
//   Mode::reduce_scatter   (ZeRO-1) each rank ends with the mean of its shard of every bucket
//                          (shard_range of the bucket over the dp ranks), in shard_grads()
//
// Wire precision: f32, or bf16 (half the bytes). In bf16 a bucket is rounded to bf16 when it
// launches and sent as bf16; the communicator's reduction adds each pair of partial sums in f32 and
// rounds the result to bf16 (MPI reductions keep the datatype: with 2 ranks one rounding of the
// f32 sum, with more one per step of the reduction); finish() widens the result back to f32 and
// averages. The gradients and what the optimizer reads stay f32. With one dp rank nothing is sent
// and nothing rounded.
//
// Gradient accumulation: only the last micro-step of an optimizer step communicates; earlier ones
// just accumulate locally. Collectives: every dp rank marks the same parameters ready in the same
// order of buckets (bucket order is fixed, whatever the order of marks within them).
#include <cstddef>
#include <memory>
#include <vector>

#include "parallel/communicator.h"
#include "parallel/topology.h"

namespace tessera::parallel {

class GradSync {
 public:
  enum class Mode { all_reduce, reduce_scatter };
  struct Bucket {
    size_t begin = 0, count = 0;      // elements of the flat gradient buffer
    size_t first_param = 0, n_params = 0;
    Range shard;                      // reduce_scatter: this rank's part, relative to begin
    size_t shard_offset = 0;          // reduce_scatter: where that part sits in shard_grads()
  };

  // param_sizes: elements of each parameter, in buffer order. grads: the flat buffer (sum of sizes).
  // wire: f32 or bf16. bucket_bytes counts f32 gradient bytes whatever the wire.
  GradSync(Communicator& dp, float* grads, const std::vector<size_t>& param_sizes, size_t bucket_bytes, Mode mode,
           core::DType wire = core::DType::f32);

  // Starts an optimizer step's last micro-step: marks from now on launch collectives.
  void begin_sync();
  // Parameter `index` has its final gradient for this micro-step.
  void mark_ready(size_t index);
  // Launches the buckets not yet launched (in bucket order), waits for all, and averages.
  void finish();

  const std::vector<Bucket>& buckets() const { return buckets_; }
  size_t launched_before_finish() const { return launched_before_finish_; }
  // reduce_scatter mode: this rank's averaged gradient shards of all buckets, concatenated.
  const std::vector<float>& shard_grads() const { return shard_grads_; }
  std::vector<float>& shard_grads() { return shard_grads_; }

 private:
  void launch(size_t bucket);

  Communicator& dp_;
  float* grads_;
  Mode mode_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_param_;
  std::vector<size_t> pending_;          // parameters not yet ready, per bucket
  size_t next_launch_ = 0;               // buckets launch in order: 0, 1, 2, ...
  std::vector<std::unique_ptr<Work>> work_;
  std::vector<float> shard_grads_;
  core::DType wire_;
  std::vector<uint16_t> wire_grads_, wire_shards_;  // bf16 wire: the buckets and this rank's shards
  bool syncing_ = false;
  size_t launched_before_finish_ = 0;
};

}  // namespace tessera::parallel
