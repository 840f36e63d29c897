#pragma once
// CPU threads per rank. Oversubscription is catastrophic (threads per rank x ranks per node must
// not exceed the cores), so the default is cores / local ranks, at least 1. OMP_NUM_THREADS, when
// set, wins.
namespace tessera {

int available_cores();  // cores this process may run on (its affinity mask)
// Sets the OpenMP thread count for this rank and returns it.
int configure_threads(int local_ranks);

}  // namespace tessera
