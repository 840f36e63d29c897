#pragma once
// One served version of the model: its weights (owned when loaded while serving; the trainer's
// in `tessera run`), tokenizer, context and its own engine (KV cache included). Versions are
// named (v1, v2, ... unless named when loaded); every response names the version that produced
// it. Loading is collective over the world (every rank keeps its tensor-parallel shard).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/tokenizer.h"
#include "parallel/world.h"
#include "serve/engine.h"
#include "serve/model_loader.h"
#include "serve/model_source.h"

namespace tessera::server {

struct Version {
  std::string id;                 // v1, v2, ... or the name given at load
  std::string ref;                // RUN_DIR, RUN_DIR:TAG, a checkpoint or model file
  std::vector<std::string> tags;  // tags of tags.json that point at the checkpoint it was read from
  std::string loaded_at;          // UTC, ISO 8601
  std::unique_ptr<serve::ServingModel> owned;  // null: the model belongs to the caller
  const datasets::Tokenizer* tokenizer = nullptr;
  int64_t context = 0;
  std::unique_ptr<serve::Engine> engine;       // null on a rank that only follows the engine ranks
};

// Collective over the world. Throws tessera::Error naming what is wrong with the reference.
std::shared_ptr<Version> load_version(const parallel::World& world, const std::string& id, const serve::ModelRef& ref,
                                      const serve::EngineOptions& options);

// Tags pointing at the checkpoint a registry reference resolves to (none for model files).
std::vector<std::string> tags_of(const std::string& ckpt_ref);

// Now in UTC, ISO 8601 with milliseconds.
std::string utc_now();

}  // namespace tessera::server
