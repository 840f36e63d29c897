// A small MPI job whose rank 1 fails in a chosen way during a loop of all-reduces, to show that the
// whole job ends promptly with a clear message instead of hanging:
//   fault_program throw   rank 1 raises an error
//   fault_program hang    rank 1 stops taking part (sleeps); its peers time out
//   fault_program kill    rank 1 is killed by SIGKILL
//   fault_program none    no fault (the job succeeds)
#include <csignal>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "parallel/groups.h"
#include "parallel/guard.h"

int main(int argc, char** argv) {
  using namespace tessera;
  auto& world = parallel::World::init(&argc, &argv);
  log::set_rank(world.rank(), world.size());
  const std::string mode = argc > 1 ? argv[1] : "none";
  return parallel::run_guarded(world, [&] {
    const auto topo = parallel::Topology::make(world.size(), world.rank(), 1, 1, 1);
    parallel::ProcessGroups groups(world, topo, /*timeout_s=*/3.0);
    std::vector<float> grads(1 << 16, 1.0f);
    for (int step = 0; step < 20; ++step) {
      if (world.rank() == 1 && step == 5) {
        if (mode == "throw") TESSERA_FAIL("step {}: loss is NaN", step);
        if (mode == "hang") std::this_thread::sleep_for(std::chrono::minutes(10));
        if (mode == "kill") std::raise(SIGKILL);
      }
      groups.dp().all_reduce(grads.data(), grads.size(), core::DType::f32, parallel::ReduceOp::sum)->wait();
      for (auto& g : grads) g /= static_cast<float>(world.size());
    }
    log::info("fault_program: 20 steps done");
    return 0;
  });
}
