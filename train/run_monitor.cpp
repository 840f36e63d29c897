#include "train/run_monitor.h"

#include <chrono>
#include <cmath>

#include "report/prometheus.h"

namespace tessera::train {

RunMonitor::RunMonitor(const MonitorConfig& config, parallel::Communicator& world, int rank)
    : config_(config),
      world_(world),
      watchdog_(config.hang_factor, config.hang_min_s, rank),
      throughput_(config.throughput_drop) {}

void RunMonitor::step_finished(double seconds, double wait_s) {
  if (auto hung = watchdog_.step_finished(seconds, wait_s)) hung_ = std::move(hung);
  interval_seconds_ += seconds;
  interval_busy_ += std::max(0.0, seconds - wait_s);
  ++interval_steps_;
}

std::vector<Anomaly> RunMonitor::end_interval(int64_t step, double tokens_per_step, nlohmann::json& record) {
  std::vector<Anomaly> found;
  const double steps = static_cast<double>(std::max<int64_t>(1, interval_steps_));
  times_ = parallel::gather_step_times(world_, interval_busy_ / steps);
  record["rank_step_s"] = times_->seconds;
  // Every rank's latest hung step of the interval: step (0: none), seconds, wait, threshold.
  const double mine[4] = {hung_ ? static_cast<double>(hung_->step) : 0.0, hung_ ? hung_->seconds : 0.0,
                          hung_ ? hung_->wait_s : 0.0, hung_ ? hung_->threshold_s : 0.0};
  std::vector<double> hung(4 * static_cast<size_t>(world_.size()));
  world_.all_gather(mine, hung.data(), hung.size(), core::DType::f64)->wait();
  for (int r = 0; r < world_.size(); ++r) {
    const double* h = hung.data() + 4 * static_cast<size_t>(r);
    if (h[0] > 0) found.push_back(watchdog_.anomaly({static_cast<int64_t>(h[0]), h[1], h[2], h[3]}, r));
  }
  // The first interval holds the start-up (first allocations, thread pools): not judged.
  if (++intervals_ > 1) {
    if (auto s = find_straggler(step, times_->seconds, config_.straggler_ratio)) found.push_back(*s);
  }
  if (interval_seconds_ > 0) {
    if (auto d = throughput_.observe(step, tokens_per_step * steps / interval_seconds_)) found.push_back(*d);
  }
  interval_seconds_ = interval_busy_ = 0;
  interval_steps_ = 0;
  hung_.reset();
  return found;
}

void RunMonitor::remember(const nlohmann::json& record) {
  for (const auto& [key, value] : record.items()) latest_[key] = value;
}

void RunMonitor::write_prometheus(const std::filesystem::path& run_dir) {
  const auto value = [&](const char* key) {
    const auto it = latest_.find(key);
    return it != latest_.end() && it->is_number() ? it->get<double>() : NAN;
  };
  std::vector<report::PromSample> s = {
      {"tessera_train_step", "Steps trained", "gauge", value("step"), {}},
      {"tessera_train_loss", "Training loss of the latest step (nats/token)", "gauge", value("loss"), {}},
      {"tessera_train_val_loss", "Latest validation loss (nats/token)", "gauge", value("val_loss"), {}},
      {"tessera_train_lr", "Learning rate", "gauge", value("lr"), {}},
      {"tessera_train_grad_norm", "Gradient norm before clipping", "gauge", value("grad_norm"), {}},
      {"tessera_train_tokens_per_second", "Training throughput of the latest step, all ranks", "gauge",
       value("tokens_per_s"), {}},
      {"tessera_train_step_seconds", "Wall time of the latest step", "gauge", value("step_s"), {}},
      {"tessera_train_mfu", "Model FLOPs utilisation (monitor.peak_tflops)", "gauge", value("mfu"), {}},
      {"tessera_train_last_update_timestamp_seconds", "When this file was written (Unix time)", "gauge",
       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(), {}}};
  if (times_) {
    for (size_t r = 0; r < times_->seconds.size(); ++r) {
      s.push_back({"tessera_train_rank_busy_seconds", "Busy time per step of each rank over the last interval",
                   "gauge", times_->seconds[r], {{"rank", std::to_string(r)}}});
    }
  }
  for (const char* kind : {"skipped_step", "rollback", "nonfinite", "loss_spike", "throughput_drop", "straggler",
                           "hung_step"}) {
    const auto it = counts_.find(kind);
    s.push_back({"tessera_train_anomalies_total", "Anomalies and events found in this process's run, by kind",
                 "counter", it == counts_.end() ? 0.0 : static_cast<double>(it->second), {{"kind", kind}}});
  }
  report::write_prometheus_file((run_dir / "metrics.prom").string(), s,
                                std::filesystem::absolute(run_dir).lexically_normal().string());
}

double mfu(double flops_per_token, double tokens_per_s, int ranks, double peak_tflops) {
  if (peak_tflops <= 0) return NAN;
  return flops_per_token * tokens_per_s / (static_cast<double>(ranks) * peak_tflops * 1e12);
}

}  // namespace tessera::train
