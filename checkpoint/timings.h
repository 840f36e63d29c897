#pragma once
// Wall-clock seconds of the phases of a checkpoint operation, as the calling rank sees them (the
// phases end in collectives, so every rank sees about the same): benchmarks print them.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace tessera::checkpoint {

class Timings {
 public:
  // The time since the previous lap (or since construction) was spent in `phase`.
  void lap(const std::string& phase);
  const std::vector<std::pair<std::string, double>>& phases() const { return phases_; }
  std::string summary() const;  // "write 0.41 s, checksums 0.47 s, ..."

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace tessera::checkpoint
