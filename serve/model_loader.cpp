#include "serve/model_loader.h"

#include <optional>
#include <string>

#include "core/error.h"
#include "parallel/topology.h"

namespace tessera::serve {

namespace {

// `m` with the world as one tensor-parallel group: its groups and communicator.
void form_world_group(const parallel::World& world, const Config& config, ServingModel& m) {
  const ModelConfig& mc = config.model;
  const auto topo = parallel::Topology::make(world.size(), world.rank(), world.size(), static_cast<int>(mc.n_head),
                                             static_cast<int>(mc.kv_heads()));
  m.groups = std::make_unique<parallel::ProcessGroups>(world, topo, config.parallel.timeout_s);
  m.tp = std::make_unique<parallel::CommTpGroup>(m.groups->tp());
}

}  // namespace

std::unique_ptr<ServingModel> load_serving_model(const parallel::World& world, const ModelRef& ref) {
  // Each rank reads the model on its own; they agree before forming the groups, so a rank that
  // could not (a path missing on its node) never leaves the others waiting in the groups' set-up.
  std::optional<ModelSource> read;
  if (world.size() == 1) {
    read = load_model_source(ref);
  } else {
    std::string error;
    try {
      read = load_model_source(ref);
    } catch (const std::exception& e) {
      error = e.what();
    }
    error = world.agree(error);
    if (!error.empty()) throw Error(error);
  }
  ModelSource& source = *read;
  auto m = std::unique_ptr<ServingModel>(new ServingModel{source.name, source.require_tokenizer(), nullptr, nullptr,
                                                           nullptr});
  form_world_group(world, source.config, *m);
  m->model = shard_model(source, m->tp.get());
  return m;
}

std::unique_ptr<ServingModel> reshard_serving_model(const parallel::World& world, const Config& config,
                                                    const core::Transformer& whole, std::string name,
                                                    const datasets::Tokenizer& tokenizer) {
  auto m = std::unique_ptr<ServingModel>(new ServingModel{std::move(name), tokenizer, nullptr, nullptr, nullptr});
  form_world_group(world, config, *m);
  m->model = shard_model(whole, config.model, *m->tp);
  return m;
}

}  // namespace tessera::serve
