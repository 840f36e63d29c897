#include "core/memory.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace tessera {

uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    uint64_t kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

std::string gib(uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1u << 30)); }

void check_fits(uint64_t bytes, int sharers, const std::string& what) {
  const uint64_t available = available_memory();
  if (available == 0) return;
  const uint64_t share = available / static_cast<uint64_t>(sharers > 0 ? sharers : 1);
  TESSERA_CHECK(bytes <= share, "{} needs {}, more than the {} available{}", what, gib(bytes), gib(share),
                sharers > 1 ? fmt::format(" to each of the {} processes on this node", sharers) : "");
}

}  // namespace tessera
