#include "parallel/guard.h"

#include <exception>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "parallel/communicator.h"

namespace tessera::parallel {

int run_guarded(const World& world, const std::function<int()>& body) {
  try {
    return body();
  } catch (const CollectiveError& e) {
    if (world.is_root()) log::error("{}", e.what());
    return 1;
  } catch (const DeadlineError& e) {
    log::error("{}", e.what());
    std::this_thread::sleep_for(kDeadlineGrace);  // the launcher ends a job with a lost host first
    log::error("stopping the job");
    world.abort(1);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    if (world.size() > 1) world.abort(1);
    return 1;
  }
}

}  // namespace tessera::parallel
