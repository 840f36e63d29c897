#include "serve/model_loader.h"

#include <cstring>

#include "checkpoint/checkpoint.h"
#include "checkpoint/run_tokenizer.h"
#include "core/error.h"
#include "parallel/topology.h"

namespace tessera::serve {

namespace {

// This rank's shard of every parameter, from the full tensors of a checkpoint.
void copy_shards(core::ParamRegistry& dst, const core::ParamRegistry& full) {
  for (size_t i = 0; i < dst.size(); ++i) {
    float* out = dst.tensor(i).data<float>();
    const float* in = full[dst.info(i).name].data<float>();
    const int64_t n = dst.tensor(i).numel();
    if (!dst.is_sharded(i)) {
      std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
      continue;
    }
    const core::ShardIndexMap index(dst.info(i), dst.tp_rank(), dst.tp_size());
    for (int64_t e = 0; e < n; ++e) out[e] = in[index(e)];
  }
}

}  // namespace

std::unique_ptr<ServingModel> load_serving_model(const parallel::World& world, const ModelSource& source) {
  checkpoint::Weights weights = checkpoint::load_weights(source.ckpt);
  auto found = checkpoint::find_tokenizer(weights, source.tokenizer);
  TESSERA_CHECK(found.has_value(), "checkpoint '{}' has no tokenizer beside it (RUN_DIR/tokenizer.json) or its "
                "data: pass --tokenizer FILE", source.ckpt);
  const ModelConfig& mc = weights.config.model;
  const auto topo = parallel::Topology::make(world.size(), world.rank(), world.size(), static_cast<int>(mc.n_head),
                                             static_cast<int>(mc.kv_heads()));
  auto m = std::unique_ptr<ServingModel>(new ServingModel{source.ckpt, std::move(*found), nullptr, nullptr, nullptr});
  m->groups = std::make_unique<parallel::ProcessGroups>(world, topo, weights.config.parallel.timeout_s);
  m->tp = std::make_unique<parallel::CommTpGroup>(m->groups->tp());
  m->model = std::make_unique<core::Transformer>(mc, core::DType::f32, m->tp.get());
  TESSERA_CHECK(m->model->num_params() == weights.params.numel(), "checkpoint '{}' holds {} weights, the model {}",
                source.ckpt, weights.params.numel(), m->model->num_params());
  copy_shards(m->model->params(), weights.params);
  return m;
}

}  // namespace tessera::serve
