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

ShardIndexMap::ShardIndexMap(const ParamInfo& info, int tp_rank, int tp_size) : axis_(info.split_axis()) {
  const int64_t rows = info.shape.empty() ? 1 : info.shape[0];
  cols_ = rows == 0 ? 0 : info.numel() / rows;
  for (const IndexRange& r : shard_ranges(info, tp_rank, tp_size)) {
    for (int64_t k = 0; k < r.length; ++k) full_.push_back(r.start + k);
  }
}

int64_t ShardIndexMap::operator()(int64_t i) const {
  if (axis_ < 0) return i;
  if (axis_ == 0) return full_[static_cast<size_t>(i / cols_)] * cols_ + i % cols_;
  const auto local_cols = static_cast<int64_t>(full_.size());
  return (i / local_cols) * cols_ + full_[static_cast<size_t>(i % local_cols)];
}

ParamRegistry::ParamRegistry(std::vector<ParamInfo> infos, DType dtype, Device device, int tp_rank, int tp_size)
    : infos_(std::move(infos)), tp_rank_(tp_rank), tp_size_(tp_size) {
  std::vector<Shape> shapes;
  int64_t total = 0;
  for (size_t i = 0; i < infos_.size(); ++i) {
    const auto [it, inserted] = index_.emplace(infos_[i].name, i);
    TESSERA_CHECK(inserted, "parameter '{}' registered twice", infos_[i].name);
    shard_ranges(infos_[i], tp_rank, tp_size);  // checks the rank and that the split divides
    shapes.push_back(shard_shape(infos_[i], tp_size));
    total += shape_numel(shapes.back());
  }
  flat_ = Tensor::empty({total}, dtype, device);
  flat_.zero_();
  int64_t offset = 0;
  for (const Shape& shape : shapes) {
    tensors_.push_back(flat_.slice(0, offset, shape_numel(shape)).reshape(shape));
    offset += shape_numel(shape);
  }
}

ParamRegistry ParamRegistry::like(const ParamRegistry& other, DType dtype) {
  return ParamRegistry(other.infos_, dtype, other.flat_.device(), other.tp_rank_, other.tp_size_);
}

int64_t ParamRegistry::full_numel() const {
  int64_t total = 0;
  for (const ParamInfo& info : infos_) total += info.numel();
  return total;
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
