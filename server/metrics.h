#pragma once
// Serving metrics in Prometheus' text format (GET /metrics), named as vLLM names them with the
// tessera: prefix: gauges of requests running and waiting and of the KV cache's use; counters of
// prompt and generated tokens and of finished requests by reason; histograms of time to first
// token, time per output token and end-to-end latency. Thread-safe: the engine thread records,
// handler threads render.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tessera::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double x);
  // "name_bucket{le=...} n" lines, then _sum and _count.
  void render(std::string& out, const std::string& name, const std::string& help) const;
  int64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // per bucket (not cumulative); the last: above every bound
  double sum_ = 0;
  int64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void set_load(int64_t running, int64_t waiting, double kv_cache_usage);
  void tokens(int64_t prompt, int64_t generated);
  void first_token(double seconds);
  void output_token_gap(double seconds);
  // reason: stop, length, abort (the client went away), timeout, error.
  void finished(const std::string& reason, double e2e_seconds);
  void rejected(const std::string& reason);  // queue_full, unavailable
  std::string render() const;
  int64_t running() const;

 private:
  mutable std::mutex mutex_;
  int64_t running_ = 0, waiting_ = 0;
  double kv_usage_ = 0;
  int64_t prompt_tokens_ = 0, generation_tokens_ = 0;
  Histogram ttft_, tpot_, e2e_;
  std::map<std::string, int64_t> finished_, rejected_;
};

}  // namespace tessera::server
