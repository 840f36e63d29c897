// tessera config --config FILE [--set section.key=value ...] [--json]: validates a run's config
// and prints it complete and canonical (every key, defaults filled in), as every rank will see it.
#include "cli/command.h"
#include "core/log.h"
#include "parallel/config_broadcast.h"

namespace tessera::cli {

void add_config_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config;
    std::vector<std::string> overrides;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("config", "Validate a run config and print it with every default filled in");
  add_config_options(*cmd, opts->config, opts->overrides);
  cmd->add_flag("--json", opts->json, "Print JSON instead of TOML");
  cmd->callback([&ctx, opts] {
    const Config config = parallel::load_config(ctx.world, opts->config, opts->overrides);
    if (opts->json) {
      log::info("{}", config.to_json());
    } else {
      log::info("{}", config.to_toml());
    }
  });
}

}  // namespace tessera::cli
