#pragma once
// MPI communicator for CPU buffers. Collectives run as nonblocking MPI calls started, in call
// order, by a worker thread of their own (one per group), which polls them to completion: it
// sleeps between polls while the calling thread computes, so communication runs behind
// computation without taking its core, and polls without pause while a thread waits on the group.
// Work::wait() waits with the group's deadline. A timed-out group is abandoned: its collective
// never completes, and main stops the job with MPI_Abort.
#include <mpi.h>

#include <memory>
#include <string>

#include "parallel/communicator.h"

namespace tessera::parallel {

// Collective over `parent`: ranks passing the same color form one group, ordered by key. peers
// names the group's other ranks and hosts ("rank 2 on node7, ..."), for the deadline's error.
std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm parent, int color, int key, std::string name,
                                                    double timeout_s, std::string peers = {});

// The MPI datatype of a dtype's elements (bf16 and f16 travel as 16-bit words).
MPI_Datatype mpi_datatype(core::DType dtype);

}  // namespace tessera::parallel
