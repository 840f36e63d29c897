#include "core/threads.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace tessera {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

void wait_passively(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  setenv("OMP_WAIT_POLICY", "passive", 0);
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the spinning default
}

int configure_threads(int local_ranks) {
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && std::atoi(env) > 0) {
    return omp_get_max_threads();
  }
  // Under mpirun each rank may be bound to one core; divide the machine's cores instead.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, std::min(available_cores(), cores / std::max(1, local_ranks)));
  omp_set_num_threads(threads);
  return threads;
}

}  // namespace tessera
