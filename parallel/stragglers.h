#pragma once
// Straggler statistics: every rank's mean step time over a logging interval, gathered to all
// ranks, with the slowest rank and its ratio to the median (1.0 = perfectly balanced).
// Collective over the communicator.
#include <string>
#include <vector>

#include "parallel/communicator.h"

namespace tessera::parallel {

struct StepTimeReport {
  std::vector<double> seconds;  // per rank
  int slowest_rank = 0;
  double median = 0, max_over_median = 1;
  std::string summary() const;  // "slowest rank 3: 1.520 s/step, 1.90x the median 0.800 s"
};

StepTimeReport gather_step_times(Communicator& comm, double my_seconds_per_step);

}  // namespace tessera::parallel
