#pragma once
// NCCL communicator for GPU buffers (device pointers on this rank's GPU).
//
// Bootstrap: rank 0 of the group creates the ncclUniqueId and broadcasts it over MPI. Collectives
// run on the communicator's own stream, ordered after the work already queued on the compute
// stream (an event, not a host sync); Work::wait() makes the compute stream wait for the result,
// again without blocking the host. A watchdog thread enforces the deadline: a collective still
// pending after timeout_s aborts the NCCL communicator (ncclCommAbort releases the kernels stuck
// in it), and the next call on this communicator raises the error naming the group and the
// operation.
#include <mpi.h>

#include <memory>
#include <string>

#include "parallel/communicator.h"

namespace tessera::parallel {

bool built_with_nccl();

// Collective over `parent` (ranks with the same color form one group, ordered by key); uses the
// current CUDA device. compute_stream is a cudaStream_t (nullptr: the legacy default stream).
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm parent, int color, int key, std::string name,
                                                     double timeout_s, void* compute_stream = nullptr);

}  // namespace tessera::parallel
