#include "parallel/stragglers.h"

#include <algorithm>

#include <fmt/format.h>

namespace tessera::parallel {

StepTimeReport gather_step_times(Communicator& comm, double my_seconds_per_step) {
  StepTimeReport report;
  report.seconds.resize(static_cast<size_t>(comm.size()));
  comm.all_gather(&my_seconds_per_step, report.seconds.data(), report.seconds.size(), core::DType::f64)->wait();
  const auto slowest = std::max_element(report.seconds.begin(), report.seconds.end());
  report.slowest_rank = static_cast<int>(slowest - report.seconds.begin());
  std::vector<double> sorted = report.seconds;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  report.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  report.max_over_median = report.median > 0 ? *slowest / report.median : 1.0;
  return report;
}

std::string StepTimeReport::summary() const {
  return fmt::format("slowest rank {}: {:.3f} s/step, {:.2f}x the median {:.3f} s", slowest_rank,
                     seconds[static_cast<size_t>(slowest_rank)], max_over_median, median);
}

}  // namespace tessera::parallel
