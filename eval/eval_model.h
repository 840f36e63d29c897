#pragma once
// A checkpoint's model loaded for evaluation across an MPI job of dp x tp ranks, as the trainer
// lays it out (parallel/topology.h): each rank holds its tensor-parallel shard, data-parallel
// replicas score different requests (sharded.h). Also the checkpoint's description (file, meta,
// config) and its tokenizer.
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

  const std::string& ref() const { return ref_; }
  const std::string& file() const { return file_; }
  const checkpoint::Meta& meta() const { return meta_; }
  const Config& config() const { return config_; }
  const parallel::Topology& topology() const { return topology_; }
  const datasets::Tokenizer& tokenizer() const { return *tokenizer_; }
  core::Transformer& model() { return *model_; }
  parallel::Communicator& dp() { return groups_->dp(); }

 private:
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
