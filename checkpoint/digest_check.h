#pragma once
// Checking a checkpoint file against its digest file (file_digest.h) before HDF5 parses a byte of
// it: HDF5 is not hardened against corrupt metadata. With an MPI world the ranks share the ranges
// (largest first to the least-loaded rank), each hashing its own with pread, and agree on the
// verdict. Collective on an MPI world (one all_gather): called in the same order on every rank.
#include <filesystem>
#include <optional>

#include "checkpoint/file_digest.h"
#include "parallel/world.h"

namespace tessera::checkpoint {

// The digest file's contents once every range matches the file's bytes, or nothing when the file
// has no digest file (a copy made elsewhere: it passes unchecked). Throws tessera::Error naming the
// file (and, for a mismatch, the bytes and what they hold) when it is damaged or truncated;
// CollectiveError on every rank of an MPI world. world: nullptr checks alone, in this process.
std::optional<FileDigest> check_file_digest(const parallel::World* world, const std::filesystem::path& file);

}  // namespace tessera::checkpoint
