#pragma once
// The communicators of one rank of a dp x tp job: the whole world, its tensor-parallel group and
// its data-parallel group (see topology.h). Under MPI they are MPI communicators split from the
// world; a single process without MPI gets groups of one. Collective: every rank creates its
// groups at the same point.
#include <memory>

#include "parallel/communicator.h"
#include "parallel/topology.h"
#include "parallel/world.h"

namespace tessera::parallel {

class ProcessGroups {
 public:
  ProcessGroups(const World& world, const Topology& topology, double timeout_s);
  ~ProcessGroups();
  Communicator& world() { return *world_; }
  Communicator& tp() { return *tp_; }
  Communicator& dp() { return *dp_; }

 private:
  std::unique_ptr<Communicator> world_, tp_, dp_;
};

}  // namespace tessera::parallel
