#pragma once
// Checkpoint references, accepted wherever a command or API takes a checkpoint:
//   path/to/step-00000100.h5   a checkpoint file
//   RUN_DIR                    the run's newest checkpoint (by step) that verifies (rotation.h)
//   CHECKPOINTS_DIR            a directory holding checkpoints itself, the same way
//   RUN_DIR:TAG                a tag of tags.json, "latest" (as RUN_DIR), or a step number
//                              (RUN_DIR:400)
// Local (no MPI).
#include <filesystem>
#include <optional>
#include <string>

namespace tessera::checkpoint {

// The checkpoints directory of a run directory (RUN_DIR/checkpoints), or `dir` itself when it
// holds checkpoints or a `latest` pointer directly.
std::filesystem::path checkpoints_dir(const std::filesystem::path& dir);

struct Resolved {
  std::filesystem::path file;
  bool verified = false;  // it has just been verified in full (directory references)
};
// The checkpoint file `ref` names; throws tessera::Error saying what was looked for. Checkpoints
// of a directory reference that do not verify are skipped with a warning (never moved: the
// trainer alone quarantines).
Resolved resolve_checked(const std::string& ref);
inline std::filesystem::path resolve(const std::string& ref) { return resolve_checked(ref).file; }

// The run directory a checkpoint file belongs to (RUN_DIR for RUN_DIR/checkpoints/FILE), or
// nothing for a file elsewhere.
std::optional<std::filesystem::path> run_dir_of(const std::filesystem::path& file);

}  // namespace tessera::checkpoint
