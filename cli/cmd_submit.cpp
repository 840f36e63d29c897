// tessera submit --config C [--run-dir R] [--nodes N --ntasks-per-node M --cpus-per-task K
// --gpus-per-node G --time MIN --partition P --account A --dependency D --launcher srun|mpirun]
// [--dry-run]: renders the Slurm batch script of a training job from its config and submits it
// through libslurm; prints the job id (--dry-run: the script).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "run/config.h"
#include "core/error.h"
#include "core/log.h"
#include "slurm/client.h"
#include "slurm/job_script.h"

namespace tessera::cli {

namespace fs = std::filesystem;

void add_submit_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string config, run_dir, launcher = "srun";
    std::vector<std::string> overrides;
    slurm::JobSpec spec;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("submit", "Submit a training job to Slurm (a batch script rendered from the config)");
  add_config_options(*cmd, o->config, o->overrides);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default runs/<config name>)");
  cmd->add_option("--nodes,-N", o->spec.nodes, "Nodes (default 1)");
  cmd->add_option("--ntasks-per-node", o->spec.ntasks_per_node, "Ranks per node (default 1)");
  cmd->add_option("--cpus-per-task", o->spec.cpus_per_task, "CPUs per rank: its threads (default 1)");
  cmd->add_option("--gpus-per-node", o->spec.gpus_per_node, "GPUs per node (default 0)");
  cmd->add_option("--time,-t", o->spec.time_minutes, "Time limit in minutes (default: the partition's)");
  cmd->add_option("--partition,-p", o->spec.partition, "Partition");
  cmd->add_option("--account,-A", o->spec.account, "Account");
  cmd->add_option("--dependency,-d", o->spec.dependency, "Slurm dependency (afterok:123, ...)");
  cmd->add_option("--name", o->spec.name, "Job name (default tessera-train-<run dir's name>)");
  cmd->add_option("--launcher", o->launcher, "srun (PMIx) or mpirun inside the allocation")
      ->check(CLI::IsMember({"srun", "mpirun"}));
  cmd->add_option("--warn-seconds", o->spec.warn_seconds,
                  "SIGUSR1 this long before the time limit: checkpoint and requeue (default 90)");
  cmd->add_option("--max-restarts", o->spec.max_restarts, "Requeues before a job that keeps stopping fails (default 3)");
  cmd->add_flag("--dry-run", o->dry_run, "Print the batch script instead of submitting it");
  cmd->callback([&ctx, o] {
    if (!ctx.world.is_root()) return;
    const Config loaded = Config::load(o->config, o->overrides);  // a bad config fails here, not in the queue
    slurm::JobSpec& s = o->spec;
    s.collective_timeout_s = loaded.parallel.timeout_s;
    const fs::path config = fs::absolute(o->config);
    s.config = config.string();
    s.run_dir = fs::absolute(o->run_dir.empty() ? fs::path("runs") / config.stem() : fs::path(o->run_dir))
                    .lexically_normal()
                    .string();
    s.tessera = fs::canonical("/proc/self/exe").string();
    s.work_dir = fs::current_path().string();
    s.launcher = o->launcher == "mpirun" ? slurm::Launcher::mpirun : slurm::Launcher::srun;
    TESSERA_CHECK(o->overrides.empty() || o->dry_run, "--set is not carried into a job: write the keys into {}",
                  o->config);
    const std::string script = slurm::render_job_script(s);
    if (o->dry_run) {
      std::cout << script;
      return;
    }
    fs::create_directories(fs::path(s.run_dir) / "logs");
    const uint32_t id = slurm::submit(s, script);
    std::cout << id << std::endl;
    log::info("submitted job {} ({}): log {}", id, s.job_name(),
              (fs::path(s.run_dir) / "logs" / fmt::format("slurm-{}.out", id)).string());
  });
}

}  // namespace tessera::cli
