#pragma once
// Communicator: the collectives training actually uses, over one group of ranks, on raw buffers.
// Implementations: MPI (CPU buffers), NCCL (GPU buffers), in-process (threads as ranks: a world of
// one, and unit tests of failure paths with an error-injection switch).
//
// Every rank of the group calls the same collectives in the same order. Each call starts the
// operation and returns a Work handle; wait() returns when this rank's buffers are ready, or
// throws tessera::Error naming the group and the operation when the group's deadline passes (a
// peer died or hung): main then stops the whole job instead of hanging.
//
// Uneven sizes: reduce_scatter and all_gather split `count` elements with shard_range (the first
// count % size ranks hold one element more), so any count works with any group size.
#include <cstddef>
#include <memory>
#include <string>

#include "core/dtype.h"
#include "core/error.h"

namespace tessera::parallel {

enum class ReduceOp { sum, max };

// A collective that missed its group's deadline: a peer died, hung or cannot be reached.
class DeadlineError : public Error {
 public:
  using Error::Error;
};

class Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& name() const = 0;  // "world", "tp", "dp": named in errors

  // data (count) <- op over ranks of data (count), in place.
  virtual std::unique_ptr<Work> all_reduce(void* data, size_t count, core::DType dtype, ReduceOp op) = 0;
  // recv (shard_range(count).count) <- this rank's shard of op over ranks of send (count).
  virtual std::unique_ptr<Work> reduce_scatter(const void* send, void* recv, size_t count, core::DType dtype,
                                               ReduceOp op) = 0;
  // recv (count) <- every rank's send (its shard_range(count).count elements), in rank order.
  virtual std::unique_ptr<Work> all_gather(const void* send, void* recv, size_t count, core::DType dtype) = 0;
  // data (count) <- root's data (count).
  virtual std::unique_ptr<Work> broadcast(void* data, size_t count, core::DType dtype, int root) = 0;
  virtual void barrier() = 0;
};

// A finished operation (a group of one, or an operation that completed when it was called).
class DoneWork final : public Work {
 public:
  void wait() override {}
};

}  // namespace tessera::parallel
