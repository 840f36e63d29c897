// Slurm batch scripts rendered from a job spec: the #SBATCH lines, the launch line, the requeue
// logic, shell quoting, valid bash (bash -n), and bad specs refused.
#include "slurm/job_script.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/test_support.h"

namespace tessera::slurm {
namespace {

using testing_support::run_command;
using testing_support::TempDir;

JobSpec spec() {
  JobSpec s;
  s.config = "/data/cfg.toml";
  s.run_dir = "/runs/q";
  s.tessera = "/opt/tessera/bin/tessera";
  s.work_dir = "/home/u";
  s.nodes = 2;
  s.ntasks_per_node = 4;
  s.cpus_per_task = 8;
  s.gpus_per_node = 4;
  s.time_minutes = 90;
  s.partition = "gpu";
  s.account = "proj";
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(JobScript, CarriesTheAllocationThePreemptionSignalAndTheRequeue) {
  const std::string s = render_job_script(spec());
  for (const char* line : {"#SBATCH --job-name=tessera-train-q\n", "#SBATCH --nodes=2\n",
                           "#SBATCH --ntasks-per-node=4\n", "#SBATCH --cpus-per-task=8\n", "#SBATCH --gpus-per-node=4\n",
                           "#SBATCH --time=1:30:00\n", "#SBATCH --partition=gpu\n", "#SBATCH --account=proj\n",
                           "#SBATCH --output=/runs/q/logs/slurm-%j.out\n", "#SBATCH --open-mode=append\n",
                           "#SBATCH --signal=USR1@90\n", "#SBATCH --requeue\n",
                           "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}\n",
                           "srun --mpi=pmix --kill-on-bad-exit=1 \"$tessera\" train --config '/data/cfg.toml' "
                           "--run-dir \"$run_dir\"\n",
                           "if [ -e \"$run_dir/complete\" ]; then\n", "if [ \"$restarts\" -lt 3 ]; then\n",
                           "scontrol requeue \"$SLURM_JOB_ID\""}) {
    EXPECT_TRUE(has(s, line)) << line << "\nin\n" << s;
  }
  EXPECT_FALSE(has(s, "--dependency")) << "no empty directives";
}

TEST(JobScript, MpirunGetsTheSignalThroughTheBatchShell) {
  JobSpec j = spec();
  j.launcher = Launcher::mpirun;
  j.warn_seconds = 120;
  j.collective_timeout_s = 60;
  const std::string s = render_job_script(j);
  EXPECT_TRUE(has(s, "#SBATCH --signal=B:USR1@120\n")) << s;
  // A lost node: mpirun drops the link after 2 unanswered keepalive probes 30 s apart, past the
  // 60 s deadline of a collective begun at the cut, before the ranks' abort 5 s later.
  EXPECT_TRUE(has(s, "export OMPI_MCA_oob_tcp_keepalive_intvl=${OMPI_MCA_oob_tcp_keepalive_intvl:-30}\n")) << s;
  EXPECT_TRUE(has(s, "mpirun -np $SLURM_NTASKS --map-by ppr:4:node")) << s;
  EXPECT_TRUE(has(s, "trap 'kill -USR1 $launcher' USR1")) << s;
}

TEST(JobScript, IsValidBashWithAwkwardPaths) {
  TempDir dir;
  for (const Launcher launcher : {Launcher::srun, Launcher::mpirun}) {
    JobSpec j = spec();
    j.launcher = launcher;
    j.config = "/data/it's a \"config\" $HOME.toml";
    j.run_dir = "/runs/with space";
    const std::string path = dir.write("job.sh", render_job_script(j));
    const auto r = run_command("bash -n " + path);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(has(testing_support::slurp(path), "'/data/it'\\''s a \"config\" $HOME.toml'"));
  }
}

TEST(JobScript, TimesAndBadSpecs) {
  EXPECT_EQ(slurm_time(0), "");
  EXPECT_EQ(slurm_time(5), "0:05:00");
  EXPECT_EQ(slurm_time(24 * 60 + 1), "24:01:00");
  JobSpec j = spec();
  j.ntasks_per_node = 0;
  EXPECT_NE(testing_support::error_of([&] { render_job_script(j); }).find("at least 1"), std::string::npos);
  j = spec();
  j.config.clear();
  EXPECT_NE(testing_support::error_of([&] { render_job_script(j); }).find("needs a config"), std::string::npos);
}

}  // namespace
}  // namespace tessera::slurm
