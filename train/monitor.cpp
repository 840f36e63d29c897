#include "train/monitor.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/log.h"

namespace tessera::train {

namespace {

constexpr size_t kThroughputHistory = 8, kStepHistory = 32, kMinStepsBeforeJudging = 5;

}  // namespace

double median_of(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.empty()) return NAN;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
  return values[values.size() / 2];
}

std::optional<Anomaly> ThroughputMonitor::observe(int64_t step, double tokens_per_s) {
  std::optional<Anomaly> found;
  if (history_.size() >= 2) {
    const double usual = median_of({history_.begin(), history_.end()});
    if (tokens_per_s < drop_ * usual) {
      found = Anomaly{step, "throughput_drop", -1,
                      fmt::format("{:.0f} tokens/s over the last interval, {:.2f}x the median {:.0f} of the intervals "
                                  "before (monitor.throughput_drop = {})",
                                  tokens_per_s, tokens_per_s / usual, usual, drop_)};
    }
  }
  history_.push_back(tokens_per_s);
  if (history_.size() > kThroughputHistory) history_.pop_front();
  return found;
}

std::optional<Anomaly> find_straggler(int64_t step, const std::vector<double>& busy_s, double ratio) {
  if (busy_s.size() < 2) return std::nullopt;
  const auto slowest = static_cast<size_t>(std::max_element(busy_s.begin(), busy_s.end()) - busy_s.begin());
  std::vector<double> others = busy_s;
  others.erase(others.begin() + static_cast<std::ptrdiff_t>(slowest));
  const double usual = median_of(others);
  if (!(usual > 0) || busy_s[slowest] <= ratio * usual) return std::nullopt;
  return Anomaly{step, "straggler", static_cast<int>(slowest),
                 fmt::format("rank {} is busy {:.3f} s per step, {:.2f}x the median {:.3f} s of the other ranks "
                             "(monitor.straggler_ratio = {})",
                             slowest, busy_s[slowest], busy_s[slowest] / usual, usual, ratio)};
}

HangWatchdog::HangWatchdog(double factor, double min_s, int rank)
    : factor_(factor), min_s_(min_s), rank_(rank), thread_([this] { watch(); }) {}

HangWatchdog::~HangWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HangWatchdog::step_started(int64_t step) {
  {
    std::lock_guard lock(mu_);
    step_ = step;
    started_ = Clock::now();
    running_ = true;
    flagged_ = false;
  }
  cv_.notify_all();
}

std::optional<HangWatchdog::Hung> HangWatchdog::step_finished(double seconds, double wait_s) {
  std::lock_guard lock(mu_);
  running_ = false;
  if (flagged_) return Hung{step_, seconds, wait_s, flagged_threshold_};
  recent_.push_back(seconds);  // a flagged step would raise the median it is judged by
  if (recent_.size() > kStepHistory) recent_.pop_front();
  return std::nullopt;
}

Anomaly HangWatchdog::anomaly(const Hung& hung, int rank) const {
  return {hung.step, "hung_step", rank,
          fmt::format("step {} took {:.2f} s on rank {} ({:.2f} s busy, {:.2f} s waiting for other ranks), past the "
                      "watchdog's {:.2f} s (monitor.hang_factor = {} x the median of recent steps, at least "
                      "monitor.hang_min_s = {})",
                      hung.step, hung.seconds, rank, hung.seconds - hung.wait_s, hung.wait_s, hung.threshold_s, factor_,
                      min_s_)};
}

double HangWatchdog::threshold_locked() const {
  if (recent_.size() < kMinStepsBeforeJudging) return INFINITY;
  return std::max(min_s_, factor_ * median_of({recent_.begin(), recent_.end()}));
}

void HangWatchdog::watch() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!running_ || flagged_) {
      cv_.wait(lock, [&] { return stop_ || (running_ && !flagged_); });
      continue;
    }
    const double threshold = threshold_locked();
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    if (elapsed > threshold) {
      flagged_ = true;
      flagged_threshold_ = threshold;
      log::warn("step {} has run {:.2f} s on rank {}, more than the watchdog's {:.2f} s ({} x the median of recent "
                "steps): hung or very slow (monitor.hang_factor)", step_, elapsed, rank_, threshold, factor_);
      continue;
    }
    const double wait = std::isfinite(threshold) ? std::clamp(threshold - elapsed, 0.01, 1.0) : 1.0;
    cv_.wait_for(lock, std::chrono::duration<double>(wait));
  }
}

}  // namespace tessera::train
