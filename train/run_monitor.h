#pragma once
// The trainer's monitoring (monitor.h's detectors, per-rank step times, metrics.prom), on every
// rank. A step's anomalies on this rank (a hung step) are held until the end of the interval,
// when one small all-gather brings every rank's busy time per step and hung step to all ranks;
// every rank then finds the same stragglers, throughput drops and hung steps, and rank 0 records
// them. Every monitor.interval steps rank 0 also rewrites RUN_DIR/metrics.prom.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/config.h"
#include "parallel/communicator.h"
#include "parallel/stragglers.h"
#include "train/monitor.h"

namespace tessera::train {

class RunMonitor {
 public:
  RunMonitor(const MonitorConfig& config, parallel::Communicator& world, int rank);

  void step_started(int64_t step) { watchdog_.step_started(step); }
  // The step's time and its wait for the gradient sync (this rank).
  void step_finished(double seconds, double wait_s);
  // Whether step `step` (1-based) ends an interval (the same on every rank).
  bool interval_due(int64_t step, bool last) const { return last || step % config_.interval == 0; }
  // Collective at the end of an interval: the per-rank busy times ("rank_step_s" in `record`),
  // stragglers, a throughput drop and every rank's hung steps. Returns the anomalies found.
  std::vector<Anomaly> end_interval(int64_t step, double tokens_per_step, nlohmann::json& record);
  // The latest per-rank times, for the log line ("slowest rank ...").
  const std::optional<parallel::StepTimeReport>& last_times() const { return times_; }

  // Counts an anomaly or event for metrics.prom (kind: an Anomaly kind, or "rollback").
  void count(const std::string& kind) { ++counts_[kind]; }
  // A step's metrics line: its values become the latest for metrics.prom.
  void remember(const nlohmann::json& record);
  // Rank 0: RUN_DIR/metrics.prom from the latest value of every field.
  void write_prometheus(const std::filesystem::path& run_dir);

 private:
  MonitorConfig config_;
  parallel::Communicator& world_;
  HangWatchdog watchdog_;
  ThroughputMonitor throughput_;
  double interval_seconds_ = 0, interval_busy_ = 0;
  int64_t interval_steps_ = 0;
  std::optional<HangWatchdog::Hung> hung_;  // this rank's latest hung step in the interval
  int64_t intervals_ = 0;
  std::optional<parallel::StepTimeReport> times_;
  std::map<std::string, int64_t> counts_;
  nlohmann::json latest_ = nlohmann::json::object();  // the latest value of every field seen
};

// Model FLOPs utilisation: achieved FLOP/s over the job's peak (ranks x peak_tflops); NaN without a peak.
double mfu(double flops_per_token, double tokens_per_s, int ranks, double peak_tflops);

}  // namespace tessera::train
