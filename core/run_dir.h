#pragma once
// A run directory holds everything a run writes:
//   DIR/config.toml       the resolved config (every key)
//   DIR/metrics.jsonl     one JSON object per line: step, loss, lr, grad_norm, tokens_per_s, and
//                         val_loss on evaluation steps
//   DIR/checkpoints/      checkpoint files and the `latest` pointer
//   DIR/logs/             per-run logs
// Only rank 0 creates and writes it.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace tessera {

class RunDir {
 public:
  // Creates DIR, DIR/checkpoints and DIR/logs when missing; throws tessera::Error if it cannot.
  explicit RunDir(const std::filesystem::path& dir);
  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path metrics_path() const { return dir_ / "metrics.jsonl"; }
  std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
  std::filesystem::path logs() const { return dir_ / "logs"; }
  std::filesystem::path config_path() const { return dir_ / "config.toml"; }

 private:
  std::filesystem::path dir_;
};

// Writes one JSON object per line and flushes it, so a killed run keeps every finished line.
// A fresh run starts the file anew; a resumed run appends to it.
class MetricsLog {
 public:
  enum class Mode { fresh, append };
  MetricsLog(const std::filesystem::path& path, Mode mode);
  void write(const nlohmann::json& record);

 private:
  std::filesystem::path path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
};

}  // namespace tessera
