#pragma once
// Internal to the batch-invariant linear layers (gemm.cpp's gemm_nt_rowwise, linear_bf16.cpp):
// register tiles of up to 4 rows x 4 weight rows on AVX-512, each weight load serving 4 rows and
// each row load 4 weight rows, with 16 independent accumulators. Every dot product keeps the
// order of the one-row path: 16 lanes (lane l takes k = l mod 16, or the bf16 pairs of 32-wide
// blocks), the lanes summed as reduce_lanes' halving tree. So a row's result does not depend on
// how many rows share its tile (batch invariance).
#include <cstdint>

namespace tessera::core::cpu::rowwise {

inline constexpr int64_t kTileRows = 4, kTileCols = 4;

bool have_avx512f();      // the f32 tile (the same bits as dot_fixed_order's FMA clones)
bool have_avx512_bf16();  // the bf16 tile (vdpbf16ps)

// out[r * ldo + j] = dot(x row r, w row j) for r < R, j < J (R, J in [1, 4]) over K:
// f32: x (R, ldx), w (J, ldw), fused multiply-add per lane, over one chunk of k (a long K runs in
// L1-sized chunks: x, w point at the chunk, K its length, a multiple of 16 but for the last; a
// whole K is one chunk, first and last): the 16 lanes of each of the R x J sums continue from
// lanes (R * J * 16 floats, [r][j][lane]) unless first; the chunk's lanes go back to lanes, or, on
// the last chunk, their trees to out. Chunking leaves every lane's order alone: the same bits.
// bf16: x, w bf16 bits, K a multiple of 32 (pairs per lane as vdpbf16ps), one chunk.
void tile_f32_avx512(float* out, int64_t ldo, float* lanes, const float* x, int64_t ldx, const float* w,
                     int64_t ldw, int64_t R, int64_t J, int64_t K, bool first, bool last);
void tile_bf16_avx512(float* out, int64_t ldo, const uint16_t* x, int64_t ldx, const uint16_t* w,
                      int64_t ldw, int64_t R, int64_t J, int64_t K);

}  // namespace tessera::core::cpu::rowwise
