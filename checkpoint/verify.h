#pragma once
// Verification of a checkpoint file: its structure and metadata (read_header) and the SHA-256 of
// every dataset against its `sha256` attribute. With an MPI world the ranks share the hashing
// (collective: one all_gather, called in the same order on every rank) and all get the same result.
#include <string>
#include <vector>

#include "parallel/world.h"

namespace tessera::checkpoint {

struct VerifyResult {
  std::string path;
  size_t datasets_checked = 0;
  std::vector<std::string> problems;  // empty: the file is good
  bool ok() const { return problems.empty(); }
  std::string summary() const;  // "PATH: N problems: first; second; ..."
};

// Never throws for a bad file: what is wrong is in `problems`.
VerifyResult verify_file(const std::string& path, const parallel::World* world = nullptr);

}  // namespace tessera::checkpoint
