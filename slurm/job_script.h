#pragma once
// Slurm batch scripts for Tessera jobs, rendered from a run config and the allocation asked for.
// The script is complete on its own (`sbatch script.sh` runs it: its #SBATCH lines say what
// JobSpec says) and is what `tessera submit` hands to libslurm. Shape of a train job:
//
//   #SBATCH lines: name, nodes, tasks per node, CPUs per task, GPUs per node, time, partition,
//     account, dependency, output (appended across requeues), --requeue, --signal=USR1@WARN
//   threads per rank from SLURM_CPUS_PER_TASK; Open MPI and NCCL knobs left to the site, except
//   mpirun's TCP keepalive (a lost node ends the job soon after the collective deadline)
//   srun --mpi=pmix tessera train --config C --run-dir R      (or mpirun inside the allocation)
//   then, unless the run marked itself complete: requeue (scontrol requeue) while the restart
//   count is below the cap, else fail with the reason.
//
// On the warning signal every rank stops at the next step boundary with a checkpoint
// (docs/training.md); the requeued job resumes from it. Local: no Slurm calls here.
#include <cstdint>
#include <string>

namespace tessera::slurm {

enum class Launcher { srun, mpirun };

struct JobSpec {
  std::string command = "train";  // the tessera subcommand each rank runs
  std::string config;             // the run config (made absolute)
  std::string run_dir;            // the run directory (made absolute); logs go to RUN_DIR/logs
  std::string tessera;            // the tessera binary (absolute)
  std::string work_dir;           // where the job starts
  std::string name;               // job name; default "tessera-<command>-<run dir's name>"
  int64_t nodes = 1, ntasks_per_node = 1, cpus_per_task = 1, gpus_per_node = 0;
  int64_t time_minutes = 0;       // 0: the partition's limit
  std::string partition, account, dependency;
  Launcher launcher = Launcher::srun;
  int64_t warn_seconds = 90;      // SIGUSR1 this long before the time limit
  int64_t max_restarts = 3;       // requeues after which a job that keeps stopping fails
  double collective_timeout_s = 300;  // the config's parallel.timeout_s (mpirun's keepalive follows it)

  std::string job_name() const;
  // The output file pattern: RUN_DIR/logs/slurm-%j.out.
  std::string output() const;
};

// "1:30:00" for 90 minutes (Slurm's time format); "" for 0.
std::string slurm_time(int64_t minutes);

// The batch script. Throws tessera::Error for a spec that cannot run (no config, counts < 1).
std::string render_job_script(const JobSpec& spec);

}  // namespace tessera::slurm
