#pragma once
// Memory the machine can still give: a model that cannot fit is refused with a clear message
// before it is allocated (an allocation past the memory either throws std::bad_alloc or, with the
// kernel's overcommit, ends the process through the OOM killer with no message at all).
#include <cstdint>
#include <string>

namespace tessera {

// MemAvailable of /proc/meminfo in bytes; 0 when unknown.
uint64_t available_memory();

// Throws tessera::Error when `bytes` exceeds the available memory divided among `sharers`
// processes of this node: "<what> needs 12.0 GiB, more than the 3.1 GiB available ...".
void check_fits(uint64_t bytes, int sharers, const std::string& what);

// "12.0 GiB"
std::string gib(uint64_t bytes);

}  // namespace tessera
