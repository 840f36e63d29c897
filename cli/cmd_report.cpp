// tessera report RUN_DIR: writes the run's monitoring page, RUN_DIR/report.html (report/run_page.h;
// the trainer also rewrites it at each checkpoint), and prints its path.
#include <iostream>

#include "cli/command.h"
#include "report/run_page.h"

namespace tessera::cli {

void add_report_command(CLI::App& app, Context& ctx) {
  auto run_dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("report", "Write a run's monitoring page, RUN_DIR/report.html, and print its path");
  cmd->add_option("run_dir", *run_dir, "Run directory (metrics.jsonl, checkpoints/)")->required();
  cmd->callback([&ctx, run_dir] {
    if (!ctx.world.is_root()) return;
    std::cout << report::write_run_page(*run_dir).string() << std::endl;
  });
}

}  // namespace tessera::cli
