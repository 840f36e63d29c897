#pragma once
// A run's metrics.jsonl read back for the reports (run_page.h, the evaluation report's loss
// curves). Tolerant: a line that is not a JSON object (a run killed mid-write) is counted and
// skipped, missing fields are NaN. Line kinds (written by train/trainer.cpp, docs/evaluation.md):
//   a step      {"step", "loss", "lr", "grad_norm", "tokens_per_s", "step_s", "sync_wait_s",
//                ["val_loss"], ["mfu"], ["skipped": true], ["rank_step_s": [per rank]],
//                ["anomalies": [{"step", "kind", "rank", "message"}]]}
//   an event    {"step", "event": "rollback", "spike_step", "spike_loss", "skipped_data_steps"}
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::report {

struct StepRecord {
  int64_t step = 0;
  double loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0, step_s = 0, val_loss = 0, mfu = 0;  // NaN when absent
  bool skipped = false;
  std::vector<double> rank_step_s;  // per rank's busy time per step over the last interval, when gathered
};

struct Event {
  int64_t step = 0;
  std::string kind;   // rollback, nonfinite, loss_spike, throughput_drop, hung_step, straggler
  int rank = -1;      // -1: the whole job
  std::string message;
};

struct RunMetrics {
  std::vector<StepRecord> steps;
  std::vector<Event> events;
  size_t bad_lines = 0;
};

// An absent file gives empty metrics.
RunMetrics read_run_metrics(const std::filesystem::path& metrics_jsonl);

// Columns of the step records, for charts: x = step, y = the field (NaN when absent).
std::vector<double> steps_of(const std::vector<StepRecord>& steps);
std::vector<double> column(const std::vector<StepRecord>& steps, double StepRecord::*field);

}  // namespace tessera::report
