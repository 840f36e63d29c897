#pragma once
// Where a run stands, read from its run directory alone (metrics.jsonl, config.toml,
// checkpoints/, the completion marker), for job monitors: `tessera jobs` joins it with Slurm's
// view of the job. Local; a missing or partly written file leaves fields unset, never an error.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace tessera {

// RUN_DIR/complete: written (JSON: step, finished_at) when a run has trained all its steps and
// saved its final checkpoint; a job script reads it to tell a finished run from a stopped one.
inline constexpr const char* kCompleteMarker = "complete";

struct RunProgress {
  int64_t step = 0;                 // the last step in metrics.jsonl
  std::optional<int64_t> steps;     // train.steps of config.toml
  std::optional<double> loss, val_loss, tokens_per_s;
  std::string last_checkpoint;      // the newest step-*.h5 file name
  bool complete = false;
};

RunProgress read_progress(const std::filesystem::path& run_dir);

}  // namespace tessera
