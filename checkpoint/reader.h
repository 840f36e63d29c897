#pragma once
// Reading checkpoint files: the header (metadata and the list of tensors, checked for structure),
// the training state's small datasets, and tensors into what a rank holds at ANY layout: each
// rank reads exactly the hyperslabs of its pieces (MPI-IO, collective transfers).
//
// read_header and read_state are local (any one process). read_tensors is collective on an MPI
// world: every rank calls it with the same path, group and infos (only the holdings differ), in
// the same order.
#include <string>
#include <vector>

#include "checkpoint/format.h"
#include "checkpoint/pieces.h"
#include "checkpoint/schedule.h"
#include "parallel/topology.h"
#include "parallel/world.h"

namespace tessera::checkpoint {

struct Header {
  std::string path;
  Meta meta;
  std::vector<core::ParamInfo> model;  // /model tensors in stored (registration) order
  bool has_optim = false;              // /optim/m, /optim/v (same tensors as /model) and /optim/step
  std::vector<Job> datasets;           // every dataset of the file with its size in bytes
};

// Throws tessera::Error naming the file and the problem: not HDF5, truncated, not a checkpoint,
// a missing or malformed dataset or attribute, moment tensors that differ from the weights.
// First checks the file's digest (digest_check.h), unless the caller already did: a collective
// operation checks it once, on one rank, before any rank parses the file.
Header read_header(const std::string& path, bool digest_checked = false);

// Throws tessera::Error unless the file holds exactly `infos` (names and shapes), naming the
// first difference.
void check_tensors(const Header& header, const std::vector<core::ParamInfo>& infos);

struct StateFields {
  int64_t optim_step = 0;
  std::string loader_json;
  std::string rng_json;
};
StateFields read_state(const std::string& path);

// world: nullptr reads serially in this process. Fills `holding` (spans of the local flat layout of topo.tp_rank of topo.tp) from /<group>/<name>.
void read_tensors(const parallel::World* world, const parallel::Topology& topo, const std::string& path,
                  const std::string& group, const std::vector<core::ParamInfo>& infos, const Holding& holding);

}  // namespace tessera::checkpoint
