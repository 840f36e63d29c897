#pragma once
// A model loaded for serving from a checkpoint: every rank of the world forms one tensor-parallel
// group and keeps its shard of every parameter; the tokenizer comes from --tokenizer, else the
// run's tokenizer.json, else the one beside the training data. `tessera generate` and
// `tessera serve` load through here (one place to add other sources of weights).
#include <memory>
#include <string>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/groups.h"
#include "parallel/tp_group.h"
#include "parallel/world.h"

namespace tessera::serve {

struct ModelSource {
  std::string ckpt;       // checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG
  std::string tokenizer;  // tokenizer file; empty: found beside the checkpoint
};

struct ServingModel {
  std::string name;  // what the source was called (the checkpoint reference)
  datasets::Tokenizer tokenizer;
  std::unique_ptr<parallel::ProcessGroups> groups;
  std::unique_ptr<parallel::CommTpGroup> tp;
  std::unique_ptr<core::Transformer> model;  // f32, this rank's shards
};

// Collective over the world (every rank calls it). Throws tessera::Error naming what is missing.
std::unique_ptr<ServingModel> load_serving_model(const parallel::World& world, const ModelSource& source);

}  // namespace tessera::serve
