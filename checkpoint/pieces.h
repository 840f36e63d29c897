#pragma once
// Pieces: what one rank holds of a set of tensors, as boxes of the full-shape tensors.
//
// A rank's "local flat layout" is its tensor-parallel shard of every tensor of a registry, one
// after another in registration order: tensor i contributes shard_shape(infos[i], tp) elements
// (rows shard_ranges(...) of a column/vocab split, columns of a row split, everything when
// replicated). A plain TP-sharded registry is one FlatSpan over all of it; a ZeRO-1 optimizer
// shard is one or more FlatSpans (e.g. one per gradient bucket).
//
// A Piece is a box (rows x cols) of one full tensor, seen as a 2-D matrix: a 2-D (out, in) tensor
// as itself, a 1-D (n) tensor as (n, 1), a 0-D tensor as (1, 1); plus where its elements lie in
// memory (row pitch in elements). Tensors of more than two dimensions are not supported.
// No MPI here: pure functions, tested directly.
#include <cstdint>
#include <vector>

#include "core/model/params.h"

namespace tessera::checkpoint {

// A run of `count` elements of the local flat layout starting at `begin`, held contiguously at `data`.
struct FlatSpan {
  int64_t begin = 0;
  int64_t count = 0;
  float* data = nullptr;
};

// What one rank holds of one set of tensors (weights, first or second moments).
struct Holding {
  std::vector<FlatSpan> spans;
  // false: every data-parallel replica holds the same spans (weights, plain AdamW moments).
  // true: data-parallel ranks hold different spans (ZeRO-1 moments); tensor-parallel peers of one
  // data-parallel rank must then hold the same spans (as bucket shards are).
  bool partitioned_over_dp = false;

  // The whole local flat layout, held in one contiguous f32 buffer (a registry's flat()).
  static Holding whole(float* data, int64_t count) { return {{{0, count, data}}, false}; }
};

struct Piece {
  size_t tensor = 0;           // index into the infos
  int64_t row = 0, col = 0;    // top-left corner in the full tensor's 2-D view
  int64_t rows = 0, cols = 0;  // extent
  float* data = nullptr;       // element (row, col) in memory
  int64_t pitch = 0;           // elements between the starts of consecutive rows in memory

  int64_t numel() const { return rows * cols; }
};

// (rows, cols) of a shape's 2-D view; throws tessera::Error for more than two dimensions.
struct Dims2 {
  int64_t rows = 1, cols = 1;
};
Dims2 dims2(const core::Shape& shape);

// Elements of the local flat layout of rank tp_rank of tp_size (sum of the shard sizes).
int64_t local_numel(const std::vector<core::ParamInfo>& infos, int tp_size);

// The pieces of the full tensors that `spans` of the local flat layout of tensor-parallel rank
// tp_rank of tp_size hold, in tensor order. Throws tessera::Error when a span leaves the layout.
std::vector<Piece> pieces_of(const std::vector<core::ParamInfo>& infos, int tp_rank, int tp_size,
                             const std::vector<FlatSpan>& spans);

// The part of `piece` that member `index` of `parts` ranks holding the same piece writes: an even
// split of its elements in row-major order, as up to three boxes (a partial first row, whole rows,
// a partial last row).
std::vector<Piece> split_piece(const Piece& piece, int parts, int index);

}  // namespace tessera::checkpoint
