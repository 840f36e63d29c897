#include "slurm/job_script.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"

namespace tessera::slurm {

namespace {

// A word for a shell script, single-quoted.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string JobSpec::job_name() const {
  if (!name.empty()) return name;
  return fmt::format("tessera-{}-{}", command, std::filesystem::path(run_dir).filename().string());
}

std::string JobSpec::output() const { return (std::filesystem::path(run_dir) / "logs" / "slurm-%j.out").string(); }

std::string slurm_time(int64_t minutes) {
  if (minutes <= 0) return "";
  return fmt::format("{}:{:02}:00", minutes / 60, minutes % 60);
}

std::string render_job_script(const JobSpec& s) {
  TESSERA_CHECK(!s.config.empty() && !s.run_dir.empty() && !s.tessera.empty(),
                "a job script needs a config, a run directory and the tessera binary");
  TESSERA_CHECK(s.nodes >= 1 && s.ntasks_per_node >= 1 && s.cpus_per_task >= 1 && s.gpus_per_node >= 0,
                "nodes, tasks per node and CPUs per task must be at least 1 (got {}, {}, {})", s.nodes,
                s.ntasks_per_node, s.cpus_per_task);
  TESSERA_CHECK(s.warn_seconds >= 0 && s.max_restarts >= 0, "the warning time and the restart cap must not be negative");
  std::string out = "#!/usr/bin/env bash\n";
  auto directive = [&](const std::string& option, const std::string& value) {
    if (!value.empty()) out += fmt::format("#SBATCH --{}={}\n", option, value);
  };
  directive("job-name", s.job_name());
  directive("nodes", std::to_string(s.nodes));
  directive("ntasks-per-node", std::to_string(s.ntasks_per_node));
  directive("cpus-per-task", std::to_string(s.cpus_per_task));
  if (s.gpus_per_node > 0) directive("gpus-per-node", std::to_string(s.gpus_per_node));
  directive("time", slurm_time(s.time_minutes));
  directive("partition", s.partition);
  directive("account", s.account);
  directive("dependency", s.dependency);
  directive("output", s.output());
  directive("open-mode", "append");
  // srun: every task gets the signal; mpirun is no job step, so the batch shell gets it (B:) and
  // hands it on to mpirun, which forwards SIGUSR1 to its ranks.
  directive("signal", fmt::format("{}USR1@{}", s.launcher == Launcher::mpirun ? "B:" : "", s.warn_seconds));
  out += "#SBATCH --requeue\n";
  out += fmt::format(R"SH(#
# Tessera {command} job, rendered by `tessera submit`. Every rank runs the same command; rank 0
# prints. On SIGUSR1 ({warn} s before the time limit, or sent by `scancel --signal=USR1`) and on
# SIGTERM the ranks stop together at a step boundary with a checkpoint; the job then requeues
# itself and resumes from that checkpoint, at most {cap} times.
set -uo pipefail
cd {work_dir}
run_dir={run_dir}
tessera={tessera}
# Threads per rank: the CPUs Slurm gave each task (never more threads than cores).
export OMP_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}}
# Site knobs, unset here on purpose (no interface names or paths are assumed):
#   Open MPI: OMPI_MCA_btl_tcp_if_include / OMPI_MCA_oob_tcp_if_include pick the network;
#   NCCL: NCCL_SOCKET_IFNAME, NCCL_IB_HCA, NCCL_DEBUG=INFO to see the transport chosen.
echo "tessera: job $SLURM_JOB_ID on $SLURM_JOB_NODELIST, restart ${{SLURM_RESTART_COUNT:-0}}, $(date -u +%FT%TZ)"
)SH",
                     fmt::arg("command", s.command), fmt::arg("warn", s.warn_seconds), fmt::arg("cap", s.max_restarts),
                     fmt::arg("work_dir", quoted(s.work_dir.empty() ? "." : s.work_dir)),
                     fmt::arg("run_dir", quoted(s.run_dir)), fmt::arg("tessera", quoted(s.tessera)));
  const std::string args =
      fmt::format("{} --config {} --run-dir \"$run_dir\"", s.command, quoted(s.config));
  if (s.launcher == Launcher::srun) {
    // PMIx: Debian's Open MPI has no PMI2 support. Every task gets the signals (no B: prefix).
    out += fmt::format("srun --mpi=pmix --kill-on-bad-exit=1 \"$tessera\" {}\n", args);
  } else {
    // mpirun learns of a lost node only by TCP keepalive on its links to the other nodes' daemons
    // (Open MPI's default: 8 minutes). These end such a job 1-2 s after the ranks' collective
    // deadline has named the missing ranks, and 3-4 s before the ranks' own abort, 5 s after it,
    // which would stall in the dead link (docs/slurm.md, "Faults").
    const int64_t interval = static_cast<int64_t>(s.collective_timeout_s + 1) / 2;  // 1 s idle + 2 probes: T+1..T+2 s
    out += fmt::format("export OMPI_MCA_oob_tcp_keepalive_time=${{OMPI_MCA_oob_tcp_keepalive_time:-1}}\n"
                       "export OMPI_MCA_oob_tcp_keepalive_intvl=${{OMPI_MCA_oob_tcp_keepalive_intvl:-{}}}\n"
                       "export OMPI_MCA_oob_tcp_keepalive_probes=${{OMPI_MCA_oob_tcp_keepalive_probes:-2}}\n",
                       interval);
    out += fmt::format("mpirun -np $SLURM_NTASKS --map-by ppr:{}:node \"$tessera\" {} &\n", s.ntasks_per_node, args);
    out += "launcher=$!\n"
           "trap 'kill -USR1 $launcher' USR1\n"
           "trap 'kill -TERM $launcher' TERM\n"
           "while wait $launcher; rc=$?; [ $rc -gt 128 ] && kill -0 $launcher 2>/dev/null; do :; done\n";
  }
  if (s.launcher == Launcher::srun) out += "rc=$?\n";
  out += fmt::format(R"SH(if [ -e "$run_dir/complete" ]; then
  echo "tessera: run complete (exit $rc)"
  exit 0
fi
restarts=${{SLURM_RESTART_COUNT:-0}}
if [ "$restarts" -lt {cap} ]; then
  echo "tessera: stopped with exit $rc before the run was complete: requeueing (restart $((restarts + 1)) of {cap})"
  scontrol requeue "$SLURM_JOB_ID" && exit 0
  echo "tessera: requeue refused"
fi
echo "tessera: stopped with exit $rc after $restarts restart(s) (the cap is {cap}): giving up"
exit $(( rc == 0 ? 1 : rc ))
)SH",
                     fmt::arg("cap", s.max_restarts));
  return out;
}

}  // namespace tessera::slurm
