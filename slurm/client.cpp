#include "slurm/client.h"

#include <unistd.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <memory>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "core/error.h"

extern char** environ;

namespace tessera::slurm {

namespace {

// libslurm 22.05 needs slurm_init before any call; it reads slurm.conf once per process, and ends
// the process after a minute of retries when there is none: say so at once instead.
void init_once() {
  static const bool done = [] {
    const char* env = std::getenv("SLURM_CONF");
    const std::string conf = env && *env ? env : "/etc/slurm/slurm.conf";
    TESSERA_CHECK(std::filesystem::exists(conf), "no Slurm configuration at {} ({}): is this a Slurm cluster? "
                  "slurm/local-cluster.sh starts one here", conf, env ? "SLURM_CONF" : "SLURM_CONF is unset");
    slurm_init(nullptr);
    return true;
  }();
  (void)done;
}

std::string last_error(const std::string& what) {
  const int err = slurm_get_errno();
  return fmt::format("{}: {} (is a Slurm controller running? SLURM_CONF={})", what, slurm_strerror(err),
                     std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF") : "unset");
}

const char* state_name(uint32_t state) {
  switch (state & JOB_STATE_BASE) {
    case JOB_PENDING: return "PENDING";
    case JOB_RUNNING: return "RUNNING";
    case JOB_SUSPENDED: return "SUSPENDED";
    case JOB_COMPLETE: return "COMPLETED";
    case JOB_CANCELLED: return "CANCELLED";
    case JOB_FAILED: return "FAILED";
    case JOB_TIMEOUT: return "TIMEOUT";
    case JOB_NODE_FAIL: return "NODE_FAIL";
    case JOB_PREEMPTED: return "PREEMPTED";
    case JOB_BOOT_FAIL: return "BOOT_FAIL";
    case JOB_DEADLINE: return "DEADLINE";
    case JOB_OOM: return "OUT_OF_MEMORY";
    default: return "UNKNOWN";
  }
}

std::string state_of(uint32_t state) {
  std::string s = state_name(state);
  if (state & JOB_REQUEUE) s += "+REQUEUE";
  if (state & JOB_COMPLETING) s += "+COMPLETING";
  return s;
}

// The common reasons a job waits or ended (squeue's words); others by number.
std::string reason_of(const slurm_job_info_t& j) {
  if (j.state_desc && *j.state_desc) return j.state_desc;
  switch (j.state_reason) {
    case WAIT_NO_REASON: return "";
    case WAIT_PRIORITY: return "Priority";
    case WAIT_DEPENDENCY: return "Dependency";
    case WAIT_RESOURCES: return "Resources";
    case WAIT_PART_NODE_LIMIT: return "PartitionNodeLimit";
    case WAIT_PART_TIME_LIMIT: return "PartitionTimeLimit";
    case WAIT_PART_DOWN: return "PartitionDown";
    case WAIT_HELD: return "JobHeldAdmin";
    case WAIT_HELD_USER: return "JobHeldUser";
    case WAIT_TIME: return "BeginTime";
    case FAIL_LAUNCH: return "JobLaunchFailure";
    case FAIL_EXIT_CODE: return "NonZeroExitCode";
    case FAIL_TIMEOUT: return "TimeLimit";
    default: return fmt::format("reason {}", j.state_reason);
  }
}

char* text(const std::string& s) { return s.empty() ? nullptr : const_cast<char*>(s.c_str()); }

}  // namespace

uint32_t submit(const JobSpec& spec, const std::string& script) {
  init_once();
  job_desc_msg_t desc;
  slurm_init_job_desc_msg(&desc);
  const std::string name = spec.job_name(), output = spec.output();
  std::string gpus = spec.gpus_per_node > 0 ? fmt::format("gres:gpu:{}", spec.gpus_per_node) : "";
  desc.name = text(name);
  desc.script = const_cast<char*>(script.c_str());
  desc.min_nodes = static_cast<uint32_t>(spec.nodes);
  desc.max_nodes = static_cast<uint32_t>(spec.nodes);
  desc.num_tasks = static_cast<uint32_t>(spec.nodes * spec.ntasks_per_node);
  desc.ntasks_per_node = static_cast<uint16_t>(spec.ntasks_per_node);
  desc.cpus_per_task = static_cast<uint16_t>(spec.cpus_per_task);
  if (spec.time_minutes > 0) desc.time_limit = static_cast<uint32_t>(spec.time_minutes);
  desc.partition = text(spec.partition);
  desc.account = text(spec.account);
  desc.dependency = text(spec.dependency);
  desc.tres_per_node = text(gpus);
  desc.std_out = text(output);
  desc.open_mode = OPEN_MODE_APPEND;
  desc.requeue = 1;
  desc.warn_signal = SIGUSR1;
  desc.warn_time = static_cast<uint16_t>(spec.warn_seconds);
  if (spec.launcher == Launcher::mpirun) desc.warn_flags = KILL_JOB_BATCH;  // the batch shell (B:)
  const std::string work_dir = spec.work_dir.empty() ? "." : spec.work_dir;
  desc.work_dir = const_cast<char*>(work_dir.c_str());
  desc.user_id = getuid();
  desc.group_id = getgid();
  uint32_t env_size = 0;
  while (environ[env_size]) ++env_size;
  desc.environment = environ;
  desc.env_size = env_size;
  submit_response_msg_t* response = nullptr;
  TESSERA_CHECK(slurm_submit_batch_job(&desc, &response) == SLURM_SUCCESS, "{}",
                last_error("cannot submit the job"));
  const uint32_t id = response->job_id;
  slurm_free_submit_response_response_msg(response);
  return id;
}

std::vector<JobInfo> tessera_jobs(bool all_users) {
  init_once();
  job_info_msg_t* msg = nullptr;
  TESSERA_CHECK(slurm_load_jobs(0, &msg, SHOW_ALL) == SLURM_SUCCESS, "{}", last_error("cannot list jobs"));
  std::unique_ptr<job_info_msg_t, void (*)(job_info_msg_t*)> owned(msg, slurm_free_job_info_msg);
  const time_t now = std::time(nullptr);
  std::vector<JobInfo> jobs;
  for (uint32_t i = 0; i < msg->record_count; ++i) {
    const slurm_job_info_t& j = msg->job_array[i];
    const std::string name = j.name ? j.name : "";
    if (name.rfind("tessera-", 0) != 0 || (!all_users && j.user_id != getuid())) continue;
    JobInfo info;
    info.id = j.job_id;
    info.name = name;
    info.state = state_of(j.job_state);
    info.reason = reason_of(j);
    info.nodes = j.nodes ? j.nodes : "";
    info.work_dir = j.work_dir ? j.work_dir : "";
    info.std_out = j.std_out ? j.std_out : "";
    const uint32_t base = j.job_state & JOB_STATE_BASE;
    if (base == JOB_RUNNING) {
      info.elapsed_s = static_cast<int64_t>(now - j.start_time) - static_cast<int64_t>(j.pre_sus_time);
    } else if (base != JOB_PENDING && j.start_time > 0 && j.end_time >= j.start_time) {
      info.elapsed_s = static_cast<int64_t>(j.end_time - j.start_time);
    }
    // No limit reads as INFINITE, NO_VAL, or after a requeue as a year (MaxTime=INFINITE).
    const bool unlimited = j.time_limit == INFINITE || j.time_limit == NO_VAL || j.time_limit >= 365u * 24 * 60;
    info.limit_minutes = unlimited ? -1 : static_cast<int64_t>(j.time_limit);
    info.restarts = j.restart_cnt;
    info.user_id = j.user_id;
    jobs.push_back(std::move(info));
  }
  return jobs;
}

void cancel(uint32_t job_id) {
  init_once();
  TESSERA_CHECK(slurm_kill_job(job_id, SIGKILL, 0) == SLURM_SUCCESS, "{}",
                last_error(fmt::format("cannot cancel job {}", job_id)));
}

}  // namespace tessera::slurm
