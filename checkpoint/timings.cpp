#include "checkpoint/timings.h"

#include <fmt/format.h>

namespace tessera::checkpoint {

void Timings::lap(const std::string& phase) {
  const auto now = std::chrono::steady_clock::now();
  phases_.emplace_back(phase, std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

std::string Timings::summary() const {
  std::string out;
  for (const auto& [phase, seconds] : phases_) out += fmt::format("{}{} {:.2f} s", out.empty() ? "" : ", ", phase, seconds);
  return out;
}

}  // namespace tessera::checkpoint
