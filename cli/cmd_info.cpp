// tessera info: what this build and this process can use.
#include <omp.h>

#include <cstdlib>

#include "cli/command.h"
#include "core/device.h"
#include "core/log.h"

namespace tessera::cli {

void add_info_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("info", "Print the build, the MPI world and the visible GPUs");
  cmd->callback([&ctx] {
    log::info("tessera {}", TESSERA_VERSION);
    log::info("cuda: {}", built_with_cuda() ? "built" : "not built");
    const auto gpus = visible_gpus();
    log::info("gpus: {}", gpus.size());
    for (const auto& g : gpus) {
      log::info("  gpu {}: {} (sm_{}{}, {:.1f} GiB)", g.index, g.name, g.compute_major, g.compute_minor,
                static_cast<double>(g.memory_bytes) / (1 << 30));
    }
    log::info("mpi: {} (world size {}, local ranks {})", ctx.world.uses_mpi() ? "yes" : "no", ctx.world.size(),
              ctx.world.local_size());
    log::info("cpu threads per rank: {}", omp_get_max_threads());
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    const char* spin = std::getenv("GOMP_SPINCOUNT");
    log::info("idle threads: {}", spin ? fmt::format("spin GOMP_SPINCOUNT={} times, then sleep", spin)
                                       : fmt::format("{} (OMP_WAIT_POLICY)", policy ? policy : "default"));
  });
}

}  // namespace tessera::cli
