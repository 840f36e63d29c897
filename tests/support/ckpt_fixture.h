#pragma once
// A synthetic parameter registry for the checkpoint tests, with every kind of tensor-parallel
// split (vocab, column with q|k|v segments, row, replicated of odd length), closed-form values,
// and each rank's local flat layout built directly from shard_ranges (independently of the
// checkpoint library's own pieces code, which the tests check against it).
#include <cstdint>
#include <vector>

#include "core/model/params.h"

namespace ckpt_fixture {

using tessera::core::ParamInfo;
using tessera::core::TpSplit;

inline std::vector<ParamInfo> infos(int64_t scale = 1) {
  auto make = [](const char* name, tessera::core::Shape shape, TpSplit split, std::vector<int64_t> segments = {}) {
    ParamInfo p;
    p.name = name;
    p.shape = std::move(shape);
    p.split = split;
    p.segments = std::move(segments);
    p.weight_decay = p.shape.size() == 2;
    return p;
  };
  const int64_t c = 8 * scale;
  return {make("embed.tokens.weight", {16 * scale, c}, TpSplit::vocab),
          make("embed.positions.weight", {6, c}, TpSplit::replicated),
          make("blocks.0.attn.qkv.weight", {2 * c, c}, TpSplit::column, {c, c / 2, c / 2}),
          make("blocks.0.attn.qkv.bias", {2 * c}, TpSplit::column, {c, c / 2, c / 2}),
          make("blocks.0.attn.out.weight", {c, c}, TpSplit::row),
          make("blocks.0.attn.out.bias", {c}, TpSplit::replicated),
          make("blocks.0.mlp.up.weight", {12 * scale, c}, TpSplit::column),
          make("blocks.0.mlp.down.weight", {c, 12 * scale}, TpSplit::row),
          make("final_norm.weight", {5}, TpSplit::replicated)};
}

// The element at flat (row-major) index `index` of tensor `t` of the full tensors: weights
// (which 0), first moments (1), second moments (2). Exact in f32 for the sizes used here.
inline float value(size_t t, int64_t index, int which) {
  return static_cast<float>(static_cast<double>(t) * 65536.0 + static_cast<double>(index) + 0.25 * which);
}

// Rank tp_rank's local flat layout: its shard of every tensor, in registration order.
inline std::vector<float> local_flat(const std::vector<ParamInfo>& ps, int tp_rank, int tp, int which) {
  std::vector<float> out;
  for (size_t t = 0; t < ps.size(); ++t) {
    const auto& p = ps[t];
    const int64_t rows = p.shape.empty() ? 1 : p.shape[0];
    const int64_t cols = p.shape.size() == 2 ? p.shape[1] : 1;
    const auto ranges = tessera::core::shard_ranges(p, tp_rank, tp);
    const int axis = p.split_axis();
    if (axis == 0) {
      for (const auto& r : ranges)
        for (int64_t i = r.start; i < r.start + r.length; ++i)
          for (int64_t j = 0; j < cols; ++j) out.push_back(value(t, i * cols + j, which));
    } else if (axis == 1) {
      for (int64_t i = 0; i < rows; ++i)
        for (const auto& r : ranges)
          for (int64_t j = r.start; j < r.start + r.length; ++j) out.push_back(value(t, i * cols + j, which));
    } else {
      for (int64_t i = 0; i < rows * cols; ++i) out.push_back(value(t, i, which));
    }
  }
  return out;
}

}  // namespace ckpt_fixture
