#pragma once
// CPU threads per rank. Oversubscription is catastrophic (threads per rank x ranks per node must
// not exceed the cores), so the default is cores / local ranks, at least 1. OMP_NUM_THREADS, when
// set, wins.
namespace tessera {

int available_cores();  // cores this process may run on (its affinity mask)

// OpenMP's idle threads wait passively (sleep) instead of spinning, unless OMP_WAIT_POLICY or
// GOMP_SPINCOUNT says otherwise: a spinning team collapses when another process shares the
// node's cores (docs/benchmarks.md: generation 7-12x slower beside one busy process; the idle
// cost is measured there too). The OpenMP runtime reads its environment when it loads, so this
// sets the variable and executes the program again, once, before anything else runs (before MPI
// starts: the process keeps its pid, its launcher's environment and its arguments). Returns only
// when nothing had to change.
void wait_passively(char** argv);
// Sets the OpenMP thread count for this rank and returns it.
int configure_threads(int local_ranks);

}  // namespace tessera
