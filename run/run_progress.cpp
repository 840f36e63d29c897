#include "run/run_progress.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "run/config.h"

namespace fs = std::filesystem;

namespace tessera {

RunProgress read_progress(const fs::path& run_dir) {
  RunProgress p;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object() || !r.contains("step") || !r["step"].is_number_integer()) continue;
    p.step = r["step"].get<int64_t>();
    if (r.contains("loss") && r["loss"].is_number()) p.loss = r["loss"].get<double>();
    if (r.contains("tokens_per_s") && r["tokens_per_s"].is_number()) p.tokens_per_s = r["tokens_per_s"].get<double>();
    if (r.contains("val_loss") && r["val_loss"].is_number()) p.val_loss = r["val_loss"].get<double>();
  }
  try {
    if (fs::exists(run_dir / "config.toml")) p.steps = Config::load((run_dir / "config.toml").string()).train.steps;
  } catch (const std::exception&) {
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("step-") && name.ends_with(".h5") && name > p.last_checkpoint) p.last_checkpoint = name;
  }
  p.complete = fs::exists(run_dir / kCompleteMarker);
  return p;
}

}  // namespace tessera
