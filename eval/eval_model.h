#pragma once
// A checkpoint's model loaded for evaluation across an MPI job of dp x tp ranks, as the trainer
// lays it out (parallel/topology.h): each rank holds its tensor-parallel shard, data-parallel
// replicas score different requests (sharded.h). Also the checkpoint's description (file, meta,
// config) and its tokenizer. Or a model file (GGUF or a Hugging Face folder) through
// serve/model_source.h: every rank reads it and keeps its shard; its meta is empty (step 0, no
// lineage) and its config names no data.
// Collective on the world: every rank constructs it at the same point with the same arguments.
#include <optional>
#include <string>

#include "checkpoint/checkpoint.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/groups.h"
#include "parallel/tp_group.h"

namespace tessera::eval {

// A checkpoint reference resolved by rank 0 (an absolute file) and its header's meta, given to
// every rank. Errors are thrown on every rank alike.
struct DescribedCheckpoint {
  std::string file;
  checkpoint::Meta meta;
};
DescribedCheckpoint describe_checkpoint(const parallel::World& world, const std::string& ref);

class EvalModel {
 public:
  // ref: a checkpoint reference (checkpoint/reference.h); tp must divide the world size and the
  // model's heads. tokenizer: a file to use instead of the one the checkpoint names (empty:
  // checkpoint::find_tokenizer's search). Errors (unknown reference, a file that does not verify,
  // no tokenizer) are thrown on every rank alike.
  EvalModel(const parallel::World& world, const std::string& ref, int tp, const std::string& tokenizer = "");
  // model_file: a GGUF file or a Hugging Face folder; errors as above.
  static std::unique_ptr<EvalModel> from_model_file(const parallel::World& world, const std::string& model_file,
                                                    int tp, const std::string& tokenizer = "");

  const std::string& ref() const { return ref_; }
  const std::string& file() const { return file_; }
  const checkpoint::Meta& meta() const { return meta_; }
  const Config& config() const { return config_; }
  const parallel::Topology& topology() const { return topology_; }
  const datasets::Tokenizer& tokenizer() const { return *tokenizer_; }
  core::Transformer& model() { return *model_; }
  parallel::Communicator& dp() { return groups_->dp(); }

 private:
  EvalModel() = default;
  // The process groups of the config's model at `tp`, every rank alike.
  void make_topology(const parallel::World& world, int tp);

  std::string ref_, file_;
  checkpoint::Meta meta_;
  Config config_;
  parallel::Topology topology_;
  std::optional<datasets::Tokenizer> tokenizer_;
  std::unique_ptr<parallel::ProcessGroups> groups_;
  std::unique_ptr<parallel::CommTpGroup> tp_group_;
  std::unique_ptr<core::Transformer> model_;
};

}  // namespace tessera::eval
