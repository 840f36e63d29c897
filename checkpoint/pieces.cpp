#include "checkpoint/pieces.h"

#include <algorithm>

#include "core/error.h"
#include "parallel/topology.h"

namespace tessera::checkpoint {

Dims2 dims2(const core::Shape& shape) {
  TESSERA_CHECK(shape.size() <= 2, "checkpoints hold tensors of at most 2 dimensions, not {}",
                core::shape_str(shape));
  if (shape.empty()) return {1, 1};
  if (shape.size() == 1) return {shape[0], 1};
  return {shape[0], shape[1]};
}

int64_t local_numel(const std::vector<core::ParamInfo>& infos, int tp_size) {
  int64_t total = 0;
  for (const auto& info : infos) total += core::shape_numel(core::shard_shape(info, tp_size));
  return total;
}

namespace {

// Boxes (in the coordinates of a rows x cols block) covering the row-major element range
// [first, first + count) of that block: a partial first row, whole rows, a partial last row.
struct Box {
  int64_t row, col, rows, cols;
};
std::vector<Box> row_aligned_boxes(int64_t cols, int64_t first, int64_t count) {
  std::vector<Box> boxes;
  int64_t at = first;
  const int64_t end = first + count;
  if (count <= 0) return boxes;
  if (at % cols != 0) {  // partial first row
    const int64_t n = std::min(end - at, cols - at % cols);
    boxes.push_back({at / cols, at % cols, 1, n});
    at += n;
  }
  if (end - at >= cols) {  // whole rows
    const int64_t rows = (end - at) / cols;
    boxes.push_back({at / cols, 0, rows, cols});
    at += rows * cols;
  }
  if (at < end) boxes.push_back({at / cols, 0, 1, end - at});  // partial last row
  return boxes;
}

// Local shard of one tensor: its 2-D view and how local indices along the split axis map to the
// full tensor (one IndexRange per segment).
struct LocalTensor {
  Dims2 local;
  int axis;  // -1, 0 (rows) or 1 (cols) of the 2-D view
  std::vector<core::IndexRange> ranges;
};

LocalTensor local_tensor(const core::ParamInfo& info, int tp_rank, int tp_size) {
  LocalTensor t;
  t.local = dims2(core::shard_shape(info, tp_size));
  t.axis = info.split_axis();
  t.ranges = core::shard_ranges(info, tp_rank, tp_size);
  return t;
}

// Maps a box of the local shard to boxes of the full tensor, cutting it where the split axis
// passes from one segment's range to the next.
void map_to_full(const LocalTensor& t, size_t tensor, const Box& b, float* data, std::vector<Piece>& out) {
  if (t.axis < 0) {
    out.push_back({tensor, b.row, b.col, b.rows, b.cols, data, t.local.cols});
    return;
  }
  const int64_t lo = t.axis == 0 ? b.row : b.col, n = t.axis == 0 ? b.rows : b.cols;
  int64_t local_base = 0;
  for (const auto& r : t.ranges) {
    const int64_t s = std::max(lo, local_base), e = std::min(lo + n, local_base + r.length);
    if (s < e) {
      const int64_t full = r.start + (s - local_base);
      if (t.axis == 0) {
        out.push_back({tensor, full, b.col, e - s, b.cols, data + (s - lo) * t.local.cols, t.local.cols});
      } else {
        out.push_back({tensor, b.row, full, b.rows, e - s, data + (s - lo), t.local.cols});
      }
    }
    local_base += r.length;
  }
}

}  // namespace

std::vector<Piece> pieces_of(const std::vector<core::ParamInfo>& infos, int tp_rank, int tp_size,
                             const std::vector<FlatSpan>& spans) {
  std::vector<LocalTensor> locals;
  std::vector<int64_t> offsets;  // start of each tensor in the local flat layout
  int64_t total = 0;
  for (const auto& info : infos) {
    locals.push_back(local_tensor(info, tp_rank, tp_size));
    offsets.push_back(total);
    total += locals.back().local.rows * locals.back().local.cols;
  }
  std::vector<Piece> pieces;
  for (const FlatSpan& span : spans) {
    TESSERA_CHECK(span.begin >= 0 && span.count >= 0 && span.begin + span.count <= total,
                  "a span [{}, {}) leaves the local layout of {} elements", span.begin, span.begin + span.count, total);
    TESSERA_CHECK(span.count == 0 || span.data != nullptr, "a span of {} elements has no data", span.count);
    // The first tensor that ends after the span begins.
    size_t i = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), span.begin) - offsets.begin()) - 1;
    for (; i < infos.size() && offsets[i] < span.begin + span.count; ++i) {
      const LocalTensor& t = locals[i];
      const int64_t size = t.local.rows * t.local.cols;
      const int64_t s = std::max(span.begin, offsets[i]), e = std::min(span.begin + span.count, offsets[i] + size);
      if (s >= e) continue;
      for (const Box& b : row_aligned_boxes(t.local.cols, s - offsets[i], e - s)) {
        float* data = span.data + (offsets[i] + b.row * t.local.cols + b.col - span.begin);
        map_to_full(t, i, b, data, pieces);
      }
    }
  }
  std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.tensor < b.tensor; });
  return pieces;
}

std::vector<Piece> split_piece(const Piece& piece, int parts, int index) {
  const auto share = parallel::shard_range(static_cast<size_t>(piece.numel()), parts, index);
  std::vector<Piece> out;
  for (const Box& b : row_aligned_boxes(piece.cols, static_cast<int64_t>(share.begin), static_cast<int64_t>(share.count))) {
    out.push_back({piece.tensor, piece.row + b.row, piece.col + b.col, b.rows, b.cols,
                   piece.data + b.row * piece.pitch + b.col, piece.pitch});
  }
  return out;
}

}  // namespace tessera::checkpoint
