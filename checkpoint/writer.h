#pragma once
// Writes one checkpoint file from every rank at once: each rank writes what it holds as
// hyperslabs of the full-shape datasets (MPI-IO, collective transfers), then the ranks hash the
// datasets (each rank a share of the datasets' bytes, read back from the closed file) and record
// the digests.
//
// Data-parallel replicas split the writing of what they hold in common: a tensor-parallel piece
// held by every dp replica is divided evenly among them (by dp rank); a replicated tensor among
// all ranks; under ZeRO-1 each dp rank writes its own moment spans and tensor-parallel peers
// divide the replicated tensors. The ranks check together that their pieces cover every tensor
// exactly once before any data moves.
//
// Collective: every rank calls write_file, then record_checksums, with the same path, infos, meta
// and sets (only the holdings' spans differ), in the same order.
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/file_digest.h"
#include "checkpoint/format.h"
#include "checkpoint/pieces.h"
#include "parallel/topology.h"
#include "parallel/world.h"

namespace tessera::checkpoint {

// One set of tensors of the registry layout: "model", "optim/m" or "optim/v".
struct TensorSet {
  std::string group;
  Holding holding;
};

struct FileContent {
  Meta meta;                               // identical on every rank
  std::vector<core::ParamInfo> infos;      // full logical shapes, registration order
  std::vector<TensorSet> sets;
  std::optional<int64_t> optim_step;       // /optim/step, with the moment sets
  std::string loader_json;                 // /state/loader
  std::string rng_json;                    // /state/rng
};

// Writes `path` (overwriting it); returns when the file is closed on every rank.
void write_file(const parallel::World& world, const parallel::Topology& topo, const std::string& path,
                const FileContent& content);
// Hashes every dataset's bytes in the written file (the ranks share them) and records each digest
// as the dataset's `sha256` attribute. Returns, on every rank, the datasets' byte ranges with their
// digests: the file digest reuses them (file_digest.h).
std::vector<DigestRange> record_checksums(const parallel::World& world, const std::string& path,
                                          const FileContent& content);

}  // namespace tessera::checkpoint
