#pragma once
// Checkpoint references, accepted wherever a command or API takes a checkpoint:
//   path/to/step-00000100.h5   a checkpoint file
//   RUN_DIR                    the run's latest checkpoint (RUN_DIR/checkpoints/latest)
//   CHECKPOINTS_DIR            a directory holding a `latest` pointer itself
//   RUN_DIR:TAG                a tag of tags.json, "latest", or a step number (RUN_DIR:400)
// Local (no MPI).
#include <filesystem>
#include <string>

namespace tessera::checkpoint {

// The checkpoints directory of a run directory (RUN_DIR/checkpoints), or `dir` itself when it
// holds checkpoints or a `latest` pointer directly.
std::filesystem::path checkpoints_dir(const std::filesystem::path& dir);

// The checkpoint file `ref` names; throws tessera::Error saying what was looked for.
std::filesystem::path resolve(const std::string& ref);

}  // namespace tessera::checkpoint
