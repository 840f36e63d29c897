#pragma once
// A model loaded for serving, sharded over the world: every rank of the world forms one
// tensor-parallel group and keeps its shard of every parameter. The source (a checkpoint, a GGUF
// file or a Hugging Face folder) and its tokenizer come from serve/model_source.h. `tessera
// generate` and `tessera serve` load through here; `tessera run` re-forms its ranks through here.
#include <memory>
#include <string>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/groups.h"
#include "parallel/tp_group.h"
#include "parallel/world.h"
#include "serve/model_source.h"

namespace tessera::serve {

struct ServingModel {
  std::string name;  // what the source was called (the reference given)
  datasets::Tokenizer tokenizer;
  std::unique_ptr<parallel::ProcessGroups> groups;
  std::unique_ptr<parallel::CommTpGroup> tp;
  std::unique_ptr<core::Transformer> model;  // f32, this rank's shards
};

// Collective over the world (every rank calls it). Throws tessera::Error naming what is missing,
// on every rank when any rank fails to read the model (World::agree, before the first collective).
std::unique_ptr<ServingModel> load_serving_model(const parallel::World& world, const ModelRef& ref);

// The world re-formed into one tensor-parallel group around a whole f32 model every rank already
// holds (`tessera run` after data-parallel training: no reload, each rank copies out its shard;
// `whole` is left as is). Collective over the world; the world size must divide the head counts.
std::unique_ptr<ServingModel> reshard_serving_model(const parallel::World& world, const Config& config,
                                                    const core::Transformer& whole, std::string name,
                                                    const datasets::Tokenizer& tokenizer);

}  // namespace tessera::serve
