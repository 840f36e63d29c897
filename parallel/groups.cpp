#include "parallel/groups.h"

#include <numeric>

#include "core/error.h"
#include "parallel/in_process.h"
#include "parallel/mpi_communicator.h"

namespace tessera::parallel {

ProcessGroups::ProcessGroups(const World& world, const Topology& topology, double timeout_s) {
  TESSERA_CHECK(topology.world_size == world.size() && topology.rank == world.rank(),
                "topology (rank {} of {}) does not match the world (rank {} of {})", topology.rank,
                topology.world_size, world.rank(), world.size());
  if (!world.uses_mpi()) {
    world_ = std::move(make_in_process_group(1, "world", timeout_s)[0]);
    tp_ = std::move(make_in_process_group(1, "tp", timeout_s)[0]);
    dp_ = std::move(make_in_process_group(1, "dp", timeout_s)[0]);
    return;
  }
  // Each group's other ranks and their hosts, named when a collective misses its deadline.
  const auto peers = [&](const std::vector<int>& group) {
    std::vector<int> others;
    for (int r : group) if (r != world.rank()) others.push_back(r);
    return world.describe(others);
  };
  std::vector<int> all(static_cast<size_t>(world.size()));
  std::iota(all.begin(), all.end(), 0);
  world_ = make_mpi_communicator(MPI_COMM_WORLD, 0, world.rank(), "world", timeout_s, peers(all));
  tp_ = make_mpi_communicator(MPI_COMM_WORLD, topology.tp_group_index(), topology.tp_rank, "tp", timeout_s,
                              peers(topology.tp_group()));
  dp_ = make_mpi_communicator(MPI_COMM_WORLD, topology.dp_group_index(), topology.dp_rank, "dp", timeout_s,
                              peers(topology.dp_group()));
}

ProcessGroups::~ProcessGroups() = default;

}  // namespace tessera::parallel
