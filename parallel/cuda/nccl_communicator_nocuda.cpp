// Built instead of nccl_communicator.cu when CUDA is off: NCCL communicators cannot be created.
#include "core/error.h"
#include "parallel/nccl_communicator.h"

namespace tessera::parallel {

bool built_with_nccl() { return false; }

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm, int, int, std::string name, double, void*) {
  TESSERA_FAIL("cannot create NCCL communicator '{}': this build has no CUDA (configure with nvcc available)", name);
}

}  // namespace tessera::parallel
