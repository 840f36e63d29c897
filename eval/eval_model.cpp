#include "eval/eval_model.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "checkpoint/agree.h"
#include "checkpoint/reader.h"
#include "checkpoint/reference.h"
#include "checkpoint/run_tokenizer.h"
#include "core/error.h"

namespace tessera::eval {

DescribedCheckpoint describe_checkpoint(const parallel::World& world, const std::string& ref) {
  // Rank 0 resolves the reference and reads the header; every rank gets the file and its meta.
  std::string described;
  checkpoint::agree(&world, [&] {
    if (!world.is_root()) return;
    const std::string file = std::filesystem::absolute(checkpoint::resolve(ref)).lexically_normal().string();
    described = file + "\n" + checkpoint::read_header(file).meta.to_json().dump();  // FILE \n META
  });
  world.broadcast(described);
  const size_t newline = described.find('\n');
  DescribedCheckpoint out;
  out.file = described.substr(0, newline);
  out.meta = checkpoint::Meta::from_json(nlohmann::json::parse(described.substr(newline + 1)), out.file);
  return out;
}

EvalModel::EvalModel(const parallel::World& world, const std::string& ref, int tp, const std::string& tokenizer)
    : ref_(ref) {
  DescribedCheckpoint described = describe_checkpoint(world, ref);
  file_ = std::move(described.file);
  meta_ = std::move(described.meta);
  checkpoint::agree(&world, [&] {
    config_ = Config::parse(meta_.config_toml, file_ + " (config_toml)");
    TESSERA_CHECK(tp >= 1 && world.size() % tp == 0, "--tp {} does not divide the {} ranks", tp, world.size());
    topology_ = parallel::Topology::make(world.size(), world.rank(), tp, static_cast<int>(config_.model.n_head),
                                         static_cast<int>(config_.model.kv_heads()));
    checkpoint::Weights described_only{file_, meta_, config_, {}};
    tokenizer_ = checkpoint::find_tokenizer(described_only, tokenizer);
    TESSERA_CHECK(tokenizer_.has_value(), "checkpoint {} has no tokenizer beside it (RUN_DIR/tokenizer.json) or in "
                  "its data directory: pass --tokenizer FILE", file_);
  });
  groups_ = std::make_unique<parallel::ProcessGroups>(world, topology_, config_.parallel.timeout_s);
  tp_group_ = std::make_unique<parallel::CommTpGroup>(groups_->tp());
  model_ = std::make_unique<core::Transformer>(config_.model, core::DType::f32, tp_group_.get());
  core::ParamRegistry& params = model_->params();
  checkpoint::read_weights(world, topology_, file_, config_, params.infos(),
                           checkpoint::Holding::whole(params.flat().data<float>(), params.numel()));
}

}  // namespace tessera::eval
