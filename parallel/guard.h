#pragma once
// How a rank stops on an error: an error every rank raised alike (CollectiveError) ends the job in
// order with one message from rank 0; any other error is reported by the rank that raised it, and
// with peers, MPI_Abort stops the whole job at once, since they may be waiting in a collective.
//
// A missed collective deadline (DeadlineError) waits kDeadlineGrace before the abort: when the
// cause is a lost host or a cut link, the launcher detects it from its own connections and ends
// the job, whereas an abort sent into the dead link would stall the launcher (Open MPI's mpirun
// then waits on TCP for many minutes). See docs/slurm.md, "Faults".
#include <chrono>
#include <functional>

#include "parallel/world.h"

namespace tessera::parallel {

inline constexpr std::chrono::seconds kDeadlineGrace{5};

// Runs body and returns its exit status, or 1 after reporting an error as above.
int run_guarded(const World& world, const std::function<int()>& body);

}  // namespace tessera::parallel
