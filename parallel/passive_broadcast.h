#pragma once
// A broadcast whose waiting ranks sleep between polls (20 us, doubling up to max_poll_s) instead
// of spinning in MPI: for followers that wait long for the root (a server idle between requests),
// so that they leave the cores free. Every rank of one broadcast calls this, not World::broadcast.
#include <string>

#include "parallel/world.h"

namespace tessera::parallel {

// root's bytes replace every other rank's `bytes`; a world of one does nothing.
void broadcast_passively(const World& world, std::string& bytes, int root = 0, double max_poll_s = 0.005);

}  // namespace tessera::parallel
