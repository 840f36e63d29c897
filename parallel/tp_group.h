#pragma once
// The model's tensor-parallel group (core::TpGroup) over a Communicator: MPI for a job's tp group,
// in-process for unit tests where threads are the ranks. Each call blocks until the collective
// is done. Collectives are called in the same order on every rank of the group (the model issues
// them at fixed points of forward and backward).
#include "core/model/tensor_parallel.h"
#include "parallel/communicator.h"

namespace tessera::parallel {

class CommTpGroup final : public core::TpGroup {
 public:
  explicit CommTpGroup(Communicator& comm) : comm_(comm) {}
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  void all_reduce(void* data, int64_t count, core::DType dtype, core::TpReduceOp op) override;

 private:
  Communicator& comm_;
};

}  // namespace tessera::parallel
