#pragma once
// A run directory holds everything one run writes, and belongs to that run:
//   DIR/config.toml       the resolved config (every key; data.dir absolute)
//   DIR/run.json          where the data came from: its absolute path and the SHA-256 of its
//                         manifest and tokenizer
//   DIR/tokenizer.json    a copy of the data's tokenizer (generate and export need nothing else)
//   DIR/data_manifest.json  a copy of the data's manifest.json: its sources, filters and counts
//   DIR/metrics.jsonl     one JSON object per line: step, loss, lr, grad_norm, tokens_per_s,
//                         val_loss on evaluation steps, skipped on steps left out as non-finite;
//                         events (rollbacks, anomalies) as lines of their own (docs/evaluation.md)
//   DIR/metrics.prom      the latest training metrics for Prometheus (train/run_monitor.h)
//   DIR/report.html       the run's monitoring page (report/run_page.h)
//   DIR/checkpoints/      checkpoint files, `latest`, tags.json, quarantine/ (files that failed
//                         verification, moved aside)
//   DIR/logs/             per-run logs
//   DIR/complete          written once the run has trained all its steps (run_progress.h)
//   DIR/superseded/TIME/  an earlier run's files, moved aside by `train --overwrite`
// Only rank 0 creates and writes it.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace tessera {

inline constexpr const char* kDataManifestCopy = "data_manifest.json";  // in a run directory

class RunDir {
 public:
  // Creates DIR, DIR/checkpoints and DIR/logs when missing; throws tessera::Error if it cannot.
  explicit RunDir(const std::filesystem::path& dir);
  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path metrics_path() const { return dir_ / "metrics.jsonl"; }
  std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
  std::filesystem::path logs() const { return dir_ / "logs"; }
  std::filesystem::path config_path() const { return dir_ / "config.toml"; }
  std::filesystem::path run_info_path() const { return dir_ / "run.json"; }
  std::filesystem::path tokenizer_path() const { return dir_ / "tokenizer.json"; }
  std::filesystem::path data_manifest_path() const { return dir_ / kDataManifestCopy; }

  // What an earlier run left here, in words ("3 checkpoint files, 600 metrics lines"); empty
  // when the directory holds no run.
  std::string earlier_run() const;
  // Files in checkpoints/quarantine/ (checkpoints that failed verification).
  size_t quarantined() const;
  // Moves everything an earlier run left into DIR/superseded/<UTC time>/ (nothing is deleted)
  // and recreates the empty layout; returns the folder it moved them to.
  std::filesystem::path set_aside();

 private:
  std::filesystem::path dir_;
};

// Writes one JSON object per line and flushes it, so a killed run keeps every finished line.
// A fresh run starts the file anew; a resumed run first drops the lines of steps after the one it
// resumes from (rewritten through a temporary file), so that every step appears once, in order.
class MetricsLog {
 public:
  static MetricsLog fresh(const std::filesystem::path& path);
  static MetricsLog resumed(const std::filesystem::path& path, int64_t step);
  void write(const nlohmann::json& record);

 private:
  MetricsLog(const std::filesystem::path& path, const char* mode);
  std::filesystem::path path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
};

}  // namespace tessera
