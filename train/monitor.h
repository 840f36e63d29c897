#pragma once
// Anomaly detection during training (thresholds: the [monitor] config section, docs/evaluation.md).
// Each finding is an Anomaly with the step and the rank; the trainer logs it, writes it to
// metrics.jsonl ({"event": "anomaly", ...}) and the run page lists it.
//   throughput drop  an interval's tokens/s below throughput_drop x the median of the previous
//                    intervals (up to 8; judged from the third interval on)
//   straggler        a rank whose busy time per step (step time less its wait for the gradient
//                    sync) exceeds straggler_ratio x the median of the other ranks'
//   hung step        HangWatchdog: a thread that logs while a step runs longer than
//                    max(hang_min_s, hang_factor x the median of the last 32 steps)
// Non-finite losses and loss spikes are found in the trainer itself (spike_detector.h).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tessera::train {

struct Anomaly {
  int64_t step = 0;
  std::string kind;  // nonfinite, loss_spike, throughput_drop, straggler, hung_step
  int rank = -1;     // -1: the whole job
  std::string message;
};

// The median of the finite values (upper median); NaN when there are none.
double median_of(std::vector<double> values);

class ThroughputMonitor {
 public:
  explicit ThroughputMonitor(double drop) : drop_(drop) {}
  // The interval ending at `step` ran at `tokens_per_s`: a drop, or nothing. Recorded either way.
  std::optional<Anomaly> observe(int64_t step, double tokens_per_s);

 private:
  double drop_;
  std::deque<double> history_;
};

// The rank that straggles in per-rank busy seconds per step (index = rank), if any.
std::optional<Anomaly> find_straggler(int64_t step, const std::vector<double>& busy_s, double ratio);

class HangWatchdog {
 public:
  HangWatchdog(double factor, double min_s, int rank);
  ~HangWatchdog();
  HangWatchdog(const HangWatchdog&) = delete;
  HangWatchdog& operator=(const HangWatchdog&) = delete;

  void step_started(int64_t step);
  struct Hung {
    int64_t step = 0;
    double seconds = 0, wait_s = 0, threshold_s = 0;
  };
  // The step took `seconds`, `wait_s` of them waiting for other ranks (the gradient sync);
  // returns it when the watchdog flagged it while it ran.
  std::optional<Hung> step_finished(double seconds, double wait_s);
  // The anomaly of a hung step on `rank` (any rank's, once gathered).
  Anomaly anomaly(const Hung& hung, int rank) const;

 private:
  using Clock = std::chrono::steady_clock;
  void watch();
  double threshold_locked() const;

  const double factor_, min_s_;
  const int rank_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, running_ = false, flagged_ = false;
  int64_t step_ = 0;
  Clock::time_point started_;
  double flagged_threshold_ = 0;  // the threshold the running step passed
  std::deque<double> recent_;
  std::thread thread_;
};

}  // namespace tessera::train
