#pragma once
// Agreement on failure before collective I/O: every rank runs the same step; if it throws on any
// rank, every rank throws, so that no rank goes on into a collective that its peers never enter.
// Collective (one all_gather) on an MPI world: called in the same order on every rank.
#include <string>

#include "core/error.h"
#include "parallel/world.h"

namespace tessera::checkpoint {

// Throws CollectiveError with the first rank's non-empty message, on every rank, when any rank
// passes one. A world of one (or nullptr) throws Error with its own message.
void raise_if_any(const parallel::World* world, const std::string& error);

template <typename F>
void agree(const parallel::World* world, F&& step) {
  std::string error;
  try {
    step();
  } catch (const Error& e) {
    if (!world || world->size() == 1) throw;
    error = e.what();
  }
  raise_if_any(world, error);
}

}  // namespace tessera::checkpoint
