#pragma once
// The parameter registry: every parameter tensor of a model with its name, full shape and
// tensor-parallel split. Checkpoints, optimizers and TP code iterate the registry, so no code is
// ever specific to one model's parameters.
//
// A registry owns one flat buffer; each parameter is a contiguous view into it, in registration
// order. The gradient registry is a second registry with the same entries (ParamRegistry::like).
// Under tensor parallelism a rank's registry holds its shard of each parameter: the views have
// shard_shape (the rows, or columns, of shard_ranges concatenated in segment order) while the
// ParamInfo keeps the full logical shape. This per-rank "local flat layout" is what checkpoints
// map back to the full tensors.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace tessera::core {

// How a parameter is divided among the ranks of a tensor-parallel group.
enum class TpSplit : uint8_t {
  replicated,  // every rank holds the full tensor (norms, row-parallel biases, positions)
  column,      // axis 0 of an (out, in) weight or of an (out) bias: output features
  row,         // axis 1 of an (out, in) weight: input features
  vocab,       // axis 0 of a (V, C) embedding or output head: the vocabulary
};

std::string_view tp_split_name(TpSplit s);

enum class InitKind : uint8_t { normal, zeros, ones };

struct ParamInfo {
  std::string name;  // "blocks.3.attn.qkv.weight"
  Shape shape;       // full logical shape, independent of any parallel layout
  TpSplit split = TpSplit::replicated;
  // Sizes along the split axis of consecutive segments that are each divided evenly among the
  // ranks; empty means one segment (the whole axis). The fused QKV weight has three segments
  // (NH*D, NKV*D, NKV*D): a rank holds its share of the query heads, of the key heads and of the
  // value heads.
  std::vector<int64_t> segments;
  // Each rank's share of a segment is a whole number of these units: an attention head's D rows
  // (qkv) or columns (attn.out), so that no head is cut in two; 1 elsewhere.
  int64_t split_unit = 1;
  bool weight_decay = true;  // false for biases and norm gains
  InitKind init = InitKind::normal;
  double init_std = 0.02;

  int split_axis() const;  // -1 (replicated), 0 (column, vocab) or 1 (row)
  int64_t numel() const { return shape_numel(shape); }
};

// A half-open index range [start, start+length) along the split axis.
struct IndexRange {
  int64_t start = 0;
  int64_t length = 0;
};

// The ranges along info.split_axis() that rank tp_rank of tp_size holds (one per segment; the full
// axis when replicated). Throws tessera::Error when a segment does not divide evenly.
std::vector<IndexRange> shard_ranges(const ParamInfo& info, int tp_rank, int tp_size);
// The shape of one rank's shard.
Shape shard_shape(const ParamInfo& info, int tp_size);

// Maps element i of rank tp_rank's shard (row-major, shard_shape) to its index in the full tensor
// (row-major, info.shape). The tensor is seen as (shape[0], rest): axis 0 splits rows, axis 1
// columns.
class ShardIndexMap {
 public:
  ShardIndexMap(const ParamInfo& info, int tp_rank, int tp_size);
  int64_t operator()(int64_t i) const;

 private:
  int axis_;
  int64_t cols_;               // full columns of the 2-D view
  std::vector<int64_t> full_;  // full positions along the split axis of the shard's positions
};

class ParamRegistry {
 public:
  ParamRegistry() = default;
  // Allocates one buffer for the shards of tensor-parallel rank tp_rank of tp_size (zero-filled)
  // and views into it. Throws tessera::Error when a split does not divide (shard_ranges).
  ParamRegistry(std::vector<ParamInfo> infos, DType dtype, Device device = Device::cpu, int tp_rank = 0,
                int tp_size = 1);
  // Same entries and shards, a new zeroed buffer (gradients, optimizer moments).
  static ParamRegistry like(const ParamRegistry& other, DType dtype);

  size_t size() const { return infos_.size(); }
  const ParamInfo& info(size_t i) const { return infos_[i]; }
  const Tensor& tensor(size_t i) const { return tensors_[i]; }  // this rank's shard
  int tp_rank() const { return tp_rank_; }
  int tp_size() const { return tp_size_; }
  // True when tensor-parallel peers hold different parts of parameter i (a split parameter in a
  // group of more than one); false when every peer holds all of it.
  bool is_sharded(size_t i) const { return tp_size_ > 1 && infos_[i].split != TpSplit::replicated; }
  // Elements of every parameter at full shape (the model's size, whatever the layout).
  int64_t full_numel() const;
  const std::vector<ParamInfo>& infos() const { return infos_; }

  bool contains(std::string_view name) const;
  size_t index_of(std::string_view name) const;          // throws for an unknown name
  const Tensor& operator[](std::string_view name) const;  // throws for an unknown name

  const Tensor& flat() const { return flat_; }  // every parameter, 1-D, in registration order
  int64_t numel() const { return flat_.numel(); }  // this rank's elements
  DType dtype() const { return flat_.dtype(); }
  void zero_() { flat_.zero_(); }

 private:
  std::vector<ParamInfo> infos_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  Tensor flat_;
  int tp_rank_ = 0, tp_size_ = 1;
};

}  // namespace tessera::core
