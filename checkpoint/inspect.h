#pragma once
// Inspection for the `tessera ckpt` commands: the versions of a run, and the differences between
// two checkpoints. Local (one process).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tessera::checkpoint {

struct Version {
  std::filesystem::path file;
  int64_t step = 0;
  uint64_t tokens_seen = 0;
  std::optional<double> val_loss;
  uintmax_t bytes = 0;
  std::string created_at;
  std::vector<std::string> tags;
  bool latest = false;
  std::string error;  // set when the header cannot be read (the other fields but file/step are empty)
};
// Every committed checkpoint of a run directory (or checkpoints directory), by ascending step.
std::vector<Version> list_versions(const std::filesystem::path& run_dir);

struct TensorDifference {
  std::string name;        // "/model/x", "/optim/m/x"
  double relative_l2 = 0;  // ||a - b|| / ||a|| (||a - b|| when ||a|| is 0)
  std::string note;        // set instead when the tensor cannot be compared (missing, shape)
};
struct Difference {
  std::vector<std::string> config;  // "section.key: A -> B"
  std::vector<TensorDifference> tensors;
};
// Compares the configs and every tensor (weights and moments) of two checkpoint files.
Difference diff(const std::string& a, const std::string& b);

}  // namespace tessera::checkpoint
