// tessera jobs [--watch SECONDS] [--all]: Tessera's Slurm jobs (libslurm) beside their runs'
// progress; tessera cancel JOB: cancel one (its ranks get SIGTERM and checkpoint first).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/command.h"
#include "core/log.h"
#include "run/progress.h"
#include "run/run_progress.h"
#include "slurm/client.h"

namespace tessera::cli {

namespace {

namespace fs = std::filesystem;

// The run directory of a job whose output is RUN_DIR/logs/slurm-%j.out.
fs::path run_dir_of(const slurm::JobInfo& job) { return fs::path(job.std_out).parent_path().parent_path(); }

std::string optional_number(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : "-";
}

void print_jobs(bool all) {
  const auto jobs = slurm::tessera_jobs(all);
  log::info("{:>7}  {:<28} {:<20} {:>9}/{:<8} {:<10} {:>13} {:>8} {:>8} {:>9} {:<18} {:>3}  {}", "job", "name", "state",
            "elapsed", "limit", "nodes", "step", "loss", "val", "tok/s", "checkpoint", "rq", "reason");
  for (const auto& j : jobs) {
    const RunProgress p = read_progress(run_dir_of(j));
    const std::string step = p.steps ? fmt::format("{}/{}", p.step, *p.steps) : std::to_string(p.step);
    log::info("{:>7}  {:<28} {:<20} {:>9}/{:<8} {:<10} {:>13} {:>8} {:>8} {:>9} {:<18} {:>3}  {}", j.id, j.name,
              j.state + (p.complete ? " (run done)" : ""), format_duration(static_cast<double>(j.elapsed_s)),
              j.limit_minutes < 0 ? "-" : format_duration(static_cast<double>(j.limit_minutes) * 60), j.nodes, step,
              optional_number(p.loss, "{:.4f}"), optional_number(p.val_loss, "{:.4f}"),
              optional_number(p.tokens_per_s, "{:.0f}"), p.last_checkpoint.empty() ? "-" : p.last_checkpoint,
              j.restarts, j.reason);
  }
  if (jobs.empty()) log::info("(no tessera jobs{})", all ? "" : " of yours; --all shows every user's");
}

}  // namespace

void add_jobs_commands(CLI::App& app, Context& ctx) {
  struct Options {
    double watch = 0;
    bool all = false;
    uint32_t job = 0;
  };
  auto o = std::make_shared<Options>();
  auto* jobs = app.add_subcommand("jobs", "Tessera's Slurm jobs with their runs' progress (step, loss, checkpoint)");
  jobs->add_option("--watch", o->watch, "Print again every SECONDS until interrupted")->expected(0, 1)->default_str("5");
  jobs->add_flag("--all", o->all, "Every user's jobs, not only yours");
  jobs->callback([&ctx, o] {
    if (!ctx.world.is_root()) return;
    print_jobs(o->all);
    while (o->watch > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(o->watch));
      log::info("");
      print_jobs(o->all);
    }
  });
  auto* cancel = app.add_subcommand("cancel", "Cancel a Tessera Slurm job (its ranks checkpoint on SIGTERM first)");
  cancel->add_option("JOB", o->job, "Job id")->required();
  cancel->callback([&ctx, o] {
    if (!ctx.world.is_root()) return;
    slurm::cancel(o->job);
    log::info("cancelled job {}: its ranks stop at the next step boundary with a checkpoint", o->job);
  });
}

}  // namespace tessera::cli
