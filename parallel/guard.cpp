#include "parallel/guard.h"

#include <exception>

#include "core/error.h"
#include "core/log.h"

namespace tessera::parallel {

int run_guarded(const World& world, const std::function<int()>& body) {
  try {
    return body();
  } catch (const CollectiveError& e) {
    if (world.is_root()) log::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    if (world.size() > 1) world.abort(1);
    return 1;
  }
}

}  // namespace tessera::parallel
