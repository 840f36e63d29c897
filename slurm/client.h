#pragma once
// Tessera's jobs through Slurm's client library (libslurm's C API: no sbatch, squeue or scancel
// processes). The controller is the one SLURM_CONF (or the default slurm.conf) names; when none
// answers, every call throws tessera::Error saying so. Local to the calling process.
#include <cstdint>
#include <string>
#include <vector>

#include "slurm/job_script.h"

namespace tessera::slurm {

// Submits `script` as a batch job with the resources of `spec` (the same values its #SBATCH lines
// carry: libslurm does not read them) and this process's environment; returns the job id.
uint32_t submit(const JobSpec& spec, const std::string& script);

struct JobInfo {
  uint32_t id = 0;
  std::string name, state, reason;  // state: "RUNNING", "PENDING", "COMPLETED", ...
  std::string nodes, work_dir, std_out;
  int64_t elapsed_s = 0;            // running time so far (or in all, once ended)
  int64_t limit_minutes = -1;       // -1: none
  int64_t restarts = 0;
  uint32_t user_id = 0;
};
// Jobs known to the controller whose name starts with "tessera-": the caller's own, or every
// user's with all_users.
std::vector<JobInfo> tessera_jobs(bool all_users);

// Cancels a job the way scancel does: SIGTERM to its tasks (which stop at a step boundary with a
// checkpoint), then SIGKILL once the cluster's KillWait has passed. A cancelled job is not
// requeued.
void cancel(uint32_t job_id);

}  // namespace tessera::slurm
