#include "parallel/section_deadline.h"

#include <chrono>

#include "core/log.h"
#include "parallel/guard.h"

namespace tessera::parallel {

SectionDeadline::SectionDeadline(const World& world, std::string what, double budget_s) {
  if (world.size() == 1) return;  // no peer to wait for
  watch_ = std::thread([this, &world, what = std::move(what), budget_s] {
    std::unique_lock<std::mutex> lock(mutex_);
    if (cv_.wait_for(lock, std::chrono::duration<double>(budget_s), [this] { return done_; })) return;
    std::vector<int> others;
    for (int r = 0; r < world.size(); ++r) if (r != world.rank()) others.push_back(r);
    log::error("{} did not finish within {:.1f} s: one of the job's other ranks failed, hung or cannot be reached "
               "(MPI does not tell which): {}", what, budget_s, world.describe(others));
    if (cv_.wait_for(lock, kDeadlineGrace, [this] { return done_; })) return;
    log::error("stopping the job");
    world.abort(1);
  });
}

SectionDeadline::~SectionDeadline() {
  if (!watch_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  watch_.join();
}

}  // namespace tessera::parallel
