#pragma once
// The parameter registry: every parameter tensor of a model with its name, full shape and
// tensor-parallel split. Checkpoints, optimizers and TP code iterate the registry, so no code is
// ever specific to one model's parameters.
//
// A registry owns one flat buffer; each parameter is a contiguous view into it, in registration
// order. The gradient registry is a second registry with the same entries (ParamRegistry::like).
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

class ParamRegistry {
 public:
  ParamRegistry() = default;
  // Allocates one buffer for all parameters (zero-filled) and views into it.
  ParamRegistry(std::vector<ParamInfo> infos, DType dtype, Device device = Device::cpu);
  // Same entries, a new zeroed buffer (gradients, optimizer moments).
  static ParamRegistry like(const ParamRegistry& other, DType dtype);

  size_t size() const { return infos_.size(); }
  const ParamInfo& info(size_t i) const { return infos_[i]; }
  const Tensor& tensor(size_t i) const { return tensors_[i]; }
  const std::vector<ParamInfo>& infos() const { return infos_; }

  bool contains(std::string_view name) const;
  size_t index_of(std::string_view name) const;          // throws for an unknown name
  const Tensor& operator[](std::string_view name) const;  // throws for an unknown name

  const Tensor& flat() const { return flat_; }  // every parameter, 1-D, in registration order
  int64_t numel() const { return flat_.numel(); }
  DType dtype() const { return flat_.dtype(); }
  void zero_() { flat_.zero_(); }

 private:
  std::vector<ParamInfo> infos_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  Tensor flat_;
};

}  // namespace tessera::core
