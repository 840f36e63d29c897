#pragma once
// An in-process group: its ranks are threads of this process sharing a rendezvous. A group of one
// is the communicator of a single-process run; larger groups let unit tests run collectives and
// their failure paths without MPI. Each rank's thread calls the collectives on its own
// Communicator; a call returns when every rank has arrived and the result is in place.
//
// Failure injection (as c10d's fake process group): make one rank throw, or never arrive, at its
// n-th collective, to test that peers time out with a clear error instead of hanging.
#include <memory>
#include <string>
#include <vector>

#include "parallel/communicator.h"

namespace tessera::parallel {

struct InjectedFailure {
  enum class Kind { none, throw_error, hang };
  Kind kind = Kind::none;
  int rank = 0;       // the rank that fails
  int operation = 0;  // at its n-th collective (0-based)
};

// The communicators of a group's ranks, in rank order; each is used by its rank's thread only.
// They share the group's rendezvous, which lives as long as any of them.
std::vector<std::unique_ptr<Communicator>> make_in_process_group(int size, const std::string& name,
                                                                 double timeout_s = 60.0,
                                                                 InjectedFailure failure = {});

}  // namespace tessera::parallel
