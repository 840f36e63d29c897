#include "checkpoint/schedule.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace tessera::checkpoint {

std::vector<size_t> assign(const std::vector<Job>& jobs, int size, int rank) {
  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a].bytes > jobs[b].bytes; });
  std::vector<uint64_t> load(static_cast<size_t>(size), 0);
  std::vector<size_t> mine;
  for (size_t j : order) {
    const auto least = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[static_cast<size_t>(least)] += jobs[j].bytes + 1;
    if (least == rank) mine.push_back(j);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

std::vector<std::string> gather_results(const parallel::World& world, const std::vector<std::string>& mine, size_t n_jobs) {
  std::string bytes;
  for (const std::string& line : mine) bytes += line + "\n";
  std::vector<std::string> results(n_jobs);
  std::vector<bool> seen(n_jobs, false);
  for (const std::string& part : world.all_gather(bytes)) {
    std::istringstream in(part);
    std::string line;
    while (std::getline(in, line)) {
      const size_t space = line.find(' ');
      TESSERA_CHECK(space != std::string::npos, "malformed result line '{}'", line);
      const size_t j = std::stoul(line.substr(0, space));
      TESSERA_CHECK(j < n_jobs, "result for job {} of {}", j, n_jobs);
      results[j] = line.substr(space + 1);
      seen[j] = true;
    }
  }
  for (size_t j = 0; j < n_jobs; ++j) TESSERA_CHECK(seen[j], "no rank reported job {}", j);
  return results;
}

}  // namespace tessera::checkpoint
