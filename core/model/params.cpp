#include "core/model/params.h"

namespace tessera::core {

std::string_view tp_split_name(TpSplit s) {
  switch (s) {
    case TpSplit::replicated: return "replicated";
    case TpSplit::column: return "column";
    case TpSplit::row: return "row";
    case TpSplit::vocab: return "vocab";
  }
  return "?";
}

int ParamInfo::split_axis() const {
  switch (split) {
    case TpSplit::replicated: return -1;
    case TpSplit::column:
    case TpSplit::vocab: return 0;
    case TpSplit::row: return 1;
  }
  return -1;
}

std::vector<IndexRange> shard_ranges(const ParamInfo& info, int tp_rank, int tp_size) {
  TESSERA_CHECK(tp_size >= 1 && tp_rank >= 0 && tp_rank < tp_size, "bad tensor-parallel rank {} of {}",
                tp_rank, tp_size);
  const int axis = info.split_axis();
  if (axis < 0) return {{0, info.shape.empty() ? 1 : info.shape[0]}};
  TESSERA_CHECK(axis < static_cast<int>(info.shape.size()), "{}: split axis {} of a tensor of shape {}",
                info.name, axis, shape_str(info.shape));
  const int64_t extent = info.shape[axis];
  std::vector<int64_t> segments = info.segments.empty() ? std::vector<int64_t>{extent} : info.segments;
  std::vector<IndexRange> ranges;
  int64_t base = 0;
  for (int64_t seg : segments) {
    TESSERA_CHECK(seg % (tp_size * info.split_unit) == 0,
                  "{}: a segment of {} along axis {} does not divide among {} tensor-parallel ranks "
                  "in whole units of {}",
                  info.name, seg, axis, tp_size, info.split_unit);
    const int64_t len = seg / tp_size;
    ranges.push_back({base + tp_rank * len, len});
    base += seg;
  }
  TESSERA_CHECK(base == extent, "{}: segments sum to {}, axis {} has {}", info.name, base, axis, extent);
  return ranges;
}

Shape shard_shape(const ParamInfo& info, int tp_size) {
  Shape s = info.shape;
  const int axis = info.split_axis();
  if (axis < 0) return s;
  int64_t total = 0;
  for (const IndexRange& r : shard_ranges(info, 0, tp_size)) total += r.length;
  s[axis] = total;
  return s;
}

ParamRegistry::ParamRegistry(std::vector<ParamInfo> infos, DType dtype, Device device)
    : infos_(std::move(infos)) {
  int64_t total = 0;
  for (size_t i = 0; i < infos_.size(); ++i) {
    const auto [it, inserted] = index_.emplace(infos_[i].name, i);
    TESSERA_CHECK(inserted, "parameter '{}' registered twice", infos_[i].name);
    total += infos_[i].numel();
  }
  flat_ = Tensor::empty({total}, dtype, device);
  flat_.zero_();
  int64_t offset = 0;
  for (const ParamInfo& info : infos_) {
    tensors_.push_back(flat_.slice(0, offset, info.numel()).reshape(info.shape));
    offset += info.numel();
  }
}

ParamRegistry ParamRegistry::like(const ParamRegistry& other, DType dtype) {
  return ParamRegistry(other.infos_, dtype, other.flat_.device());
}

bool ParamRegistry::contains(std::string_view name) const {
  return index_.find(std::string(name)) != index_.end();
}

size_t ParamRegistry::index_of(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  TESSERA_CHECK(it != index_.end(), "no parameter named '{}'", name);
  return it->second;
}

const Tensor& ParamRegistry::operator[](std::string_view name) const { return tensors_[index_of(name)]; }

}  // namespace tessera::core
