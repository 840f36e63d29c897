#pragma once
// Sharing per-dataset work (hashing) among ranks: a deterministic assignment balanced by bytes,
// and the gathering of one result per dataset to every rank. gather_results is collective (one
// all_gather): called in the same order on every rank.
#include <cstdint>
#include <string>
#include <vector>

#include "parallel/world.h"

namespace tessera::checkpoint {

struct Job {
  std::string name;    // dataset path in the file
  uint64_t bytes = 0;
};

// Indices of the jobs rank `rank` of `size` does: largest first, each to the least-loaded rank.
std::vector<size_t> assign(const std::vector<Job>& jobs, int size, int rank);

// `mine`: lines "INDEX RESULT" for this rank's jobs. Returns every job's RESULT, by index, on
// every rank; throws tessera::Error when a job has no result.
std::vector<std::string> gather_results(const parallel::World& world, const std::vector<std::string>& mine, size_t n_jobs);

}  // namespace tessera::checkpoint
