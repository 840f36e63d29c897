#pragma once
// The checkpoint API of the trainer (train/), the serving engine (serve/), evaluation (eval/) and
// the `tessera ckpt` tools.
//
// Shapes: `infos` are the registry's entries with FULL logical shapes (registration order). What a
// rank holds is a Holding: spans of its local flat layout, i.e. its tensor-parallel shard of every
// tensor one after another (tensor i: shard_shape(infos[i], topo.tp) elements, rows
// shard_ranges(...) for column/vocab splits, columns for row splits). With tp = 1 a registry's
// flat() buffer is the whole layout: Holding::whole(reg.flat().data<float>(), reg.numel()).
// ZeRO-1 moments: the spans (e.g. per gradient bucket) this dp rank updates, partitioned_over_dp.
//
// save_checkpoint, load_training_state, read_weights and find_resumable are collective on an MPI
// world: every rank calls them in the same order with the same arguments except the holdings'
// spans. load_weights is local (one process reads everything).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/commit.h"
#include "checkpoint/format.h"
#include "checkpoint/pieces.h"
#include "checkpoint/rotation.h"
#include "checkpoint/timings.h"
#include "run/config.h"
#include "core/model/params.h"
#include "datasets/loader.h"
#include "parallel/topology.h"
#include "parallel/world.h"

namespace tessera::checkpoint {

struct SaveRequest {
  std::vector<core::ParamInfo> infos;    // full shapes, as the model registers them
  Holding params;                        // weights (f32)
  std::optional<Holding> m, v;           // AdamW moments: both or neither
  int64_t optim_step = 0;                // AdamW::steps_taken()
  datasets::LoaderPosition loader;
  nlohmann::json rng = nlohmann::json::object();  // e.g. {"seed": 1337, "step": 100}
  // config_json/config_toml, step, tokens_seen, tokenizer_hash, lineage, val_loss (optional).
  // layout, created_at and software_version are filled in by save_checkpoint.
  Meta meta;
};

struct SaveOptions {
  // The newest checkpoints that verify kept (checkpoint.keep); tagged ones are never deleted and
  // files that do not verify are quarantined, never counted (rotation.h).
  int64_t keep = 3;
  Validity* validity = nullptr;  // rotation's memory of verified files (rank 0); none: a fresh one
  // Called at each moment of the save (commit.h's SavePoint): on every rank for begin, written
  // and synced, on rank 0 for the rest. Tests inject crashes here.
  SaveHook at = nullptr;
  Timings* timings = nullptr;  // when set, receives the phases: write, checksums, fsync, commit
};

// Writes checkpoints_dir/step-NNNNNNNN.h5 (meta.step) atomically, moves `latest`, rotates; returns
// the committed path on every rank. checkpoints_dir must exist.
std::filesystem::path save_checkpoint(const parallel::World& world, const parallel::Topology& topo,
                                      const std::filesystem::path& checkpoints_dir, const SaveRequest& request,
                                      const SaveOptions& options = {});

struct LoadRequest {
  std::vector<core::ParamInfo> infos;  // must match the file's tensors (names, shapes)
  Holding params;                      // filled in
  std::optional<Holding> m, v;         // filled in when given (the file must hold moments)
  bool verify = true;                  // check every dataset's SHA-256 first (the ranks share it)
  Timings* timings = nullptr;          // when set, receives the phases: verify or digest, header, read
};

struct TrainingState {
  std::filesystem::path file;
  Meta meta;
  int64_t optim_step = 0;
  datasets::LoaderPosition loader;
  nlohmann::json rng;
};

// Resolves `ref` (see reference.h), checks that the file's model config equals config.model and
// its tensors equal request.infos, and fills what this rank holds at the current layout.
// Throws tessera::Error (CollectiveError on several ranks) naming the file and the problem.
TrainingState load_training_state(const parallel::World& world, const parallel::Topology& topo,
                                  const std::string& ref, const Config& config, const LoadRequest& request);

// Weights only, into this rank's holding at the current layout (serving, fine-tuning).
Meta read_weights(const parallel::World& world, const parallel::Topology& topo, const std::string& ref,
                  const Config& config, const std::vector<core::ParamInfo>& infos, const Holding& params,
                  bool verify = true);

struct Weights {
  std::filesystem::path file;
  Meta meta;
  Config config;                // parsed from the file's config_toml
  core::ParamRegistry params;   // every tensor in full, f32, in the file's order
};
// Everything in one process (export, inspection), verified.
Weights load_weights(const std::string& ref, bool verify = true);

struct Resumable {
  std::optional<std::filesystem::path> file;       // the newest checkpoint that verifies
  std::vector<std::filesystem::path> quarantined;  // newer ones that did not (their new paths)
};
// The newest checkpoint of a run (by step) that verifies (rotation.h). Rank 0 moves each newer one
// that fails into quarantine with a log::warn.
Resumable find_resumable(const parallel::World& world, const std::filesystem::path& run_dir);

}  // namespace tessera::checkpoint
