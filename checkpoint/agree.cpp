#include "checkpoint/agree.h"

namespace tessera::checkpoint {

void raise_if_any(const parallel::World* world, const std::string& error) {
  if (!world || world->size() == 1) {
    if (!error.empty()) throw Error(error);
    return;
  }
  const auto all = world->all_gather(error);
  for (size_t r = 0; r < all.size(); ++r) {
    if (!all[r].empty()) throw CollectiveError(all[r] + (static_cast<int>(r) == world->rank() ? "" : TESSERA_FORMAT(" (on rank {})", r)));
  }
}

}  // namespace tessera::checkpoint
