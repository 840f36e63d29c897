#include "parallel/passive_broadcast.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <thread>

#include "core/error.h"
#include "parallel/mpi_check.h"

namespace tessera::parallel {

void broadcast_passively(const World& world, std::string& bytes, int root, double max_poll_s) {
  if (!world.uses_mpi()) return;
  long long size = static_cast<long long>(bytes.size());
  MPI_Request request;
  MPI_CHECK(MPI_Ibcast(&size, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD, &request));
  double poll_s = 20e-6;
  for (int done = 0;;) {
    MPI_CHECK(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
    poll_s = std::min(poll_s * 2, max_poll_s);
  }
  TESSERA_CHECK(size <= INT_MAX, "broadcast of {} bytes exceeds the 2 GiB message limit", size);
  bytes.resize(static_cast<size_t>(size));
  MPI_CHECK(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, MPI_COMM_WORLD));
}

}  // namespace tessera::parallel
