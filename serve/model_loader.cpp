#include "serve/model_loader.h"

#include "parallel/topology.h"

namespace tessera::serve {

std::unique_ptr<ServingModel> load_serving_model(const parallel::World& world, const ModelRef& ref) {
  ModelSource source = load_model_source(ref);
  auto m = std::unique_ptr<ServingModel>(new ServingModel{source.name, source.require_tokenizer(), nullptr, nullptr,
                                                           nullptr});
  const ModelConfig& mc = source.config.model;
  const auto topo = parallel::Topology::make(world.size(), world.rank(), world.size(), static_cast<int>(mc.n_head),
                                             static_cast<int>(mc.kv_heads()));
  m->groups = std::make_unique<parallel::ProcessGroups>(world, topo, source.config.parallel.timeout_s);
  m->tp = std::make_unique<parallel::CommTpGroup>(m->groups->tp());
  m->model = shard_model(source, m->tp.get());
  return m;
}

}  // namespace tessera::serve
