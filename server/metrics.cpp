#include "server/metrics.h"

#include <fmt/format.h>

namespace tessera::server {

void Histogram::observe(double x) {
  size_t b = 0;
  while (b < bounds_.size() && x > bounds_[b]) ++b;
  ++counts_[b];
  sum_ += x;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  int64_t cumulative = 0;
  for (size_t b = 0; b < bounds_.size(); ++b) {
    cumulative += counts_[b];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[b], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

Metrics::Metrics()
    : ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}),
      tpot_({0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5}),
      e2e_({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0}) {}

void Metrics::set_load(int64_t running, int64_t waiting, double kv_cache_usage) {
  std::lock_guard lock(mutex_);
  running_ = running;
  waiting_ = waiting;
  kv_usage_ = kv_cache_usage;
}

void Metrics::tokens(int64_t prompt, int64_t generated) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += prompt;
  generation_tokens_ += generated;
}

void Metrics::first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::output_token_gap(double seconds) {
  std::lock_guard lock(mutex_);
  tpot_.observe(seconds);
}

void Metrics::finished(const std::string& reason, double e2e_seconds) {
  std::lock_guard lock(mutex_);
  ++finished_[reason];
  e2e_.observe(e2e_seconds);
}

void Metrics::rejected(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++rejected_[reason];
}

int64_t Metrics::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  auto gauge = [&](const char* name, const char* help, double v) {
    out += fmt::format("# HELP tessera:{} {}\n# TYPE tessera:{} gauge\ntessera:{} {}\n", name, help, name, name, v);
  };
  auto counter = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP tessera:{} {}\n# TYPE tessera:{} counter\ntessera:{} {}\n", name, help, name, name, v);
  };
  gauge("num_requests_running", "Requests in the engine's running batch.", static_cast<double>(running_));
  gauge("num_requests_waiting", "Requests queued for a slot.", static_cast<double>(waiting_));
  gauge("kv_cache_usage_perc", "Fraction of KV cache blocks in use (0 to 1).", kv_usage_);
  counter("prompt_tokens_total", "Prompt tokens admitted.", prompt_tokens_);
  counter("generation_tokens_total", "Tokens generated.", generation_tokens_);
  out += "# HELP tessera:request_success_total Finished requests by reason (stop, length, abort, timeout, error).\n"
         "# TYPE tessera:request_success_total counter\n";
  for (const char* r : {"stop", "length", "abort", "timeout", "error"}) {
    auto it = finished_.find(r);
    out += fmt::format("tessera:request_success_total{{finished_reason=\"{}\"}} {}\n", r, it == finished_.end() ? 0 : it->second);
  }
  out += "# HELP tessera:request_rejected_total Requests refused before they ran (queue_full, unavailable).\n"
         "# TYPE tessera:request_rejected_total counter\n";
  for (const char* r : {"queue_full", "unavailable"}) {
    auto it = rejected_.find(r);
    out += fmt::format("tessera:request_rejected_total{{reason=\"{}\"}} {}\n", r, it == rejected_.end() ? 0 : it->second);
  }
  ttft_.render(out, "tessera:time_to_first_token_seconds", "Time from arrival to the first generated token.");
  tpot_.render(out, "tessera:time_per_output_token_seconds", "Time between generated tokens of a request.");
  e2e_.render(out, "tessera:e2e_request_latency_seconds", "Time from arrival to the end of a request.");
  return out;
}

}  // namespace tessera::server
