#include "core/cpu/attention_bf16.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/bf16_round.h"
#include "core/cpu/gemm_bf16.h"
#include "core/cpu/parallel.h"
#include "core/cpu/softmax_rows.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

// Query rows per block. Each block is one product per group of heads, so larger blocks mean fewer
// calls; at T = 256, 128 rows compute 3/4 of the dense scores in 2 calls per product.
constexpr int64_t kRows = 128;

// One task: a sequence b and a kv head g with the `group` query heads that read it, as the batch
// dimensions (1, 1, group) of every product. All views are read in place.
struct Task {
  int64_t T, NH, NKV, D, group;
  int64_t ld, C;  // the qkv row ((NH + 2 * NKV) * D) and the output row (NH * D)

  // Rows of the group's query heads of a (T, heads*D) tensor with row length `row`: (n, D) each.
  Bf16Batch query_rows(int64_t row, int64_t n, int64_t heads = 0) const {
    return {{1, 1, heads ? heads : group, n, D}, {T * row, group * D, D, row, 1}};
  }
  // Rows of the kv head, shared by the group: (n, D), or transposed (D, n).
  Bf16Batch kv_rows(int64_t n) const { return {{1, 1, 1, n, D}, {T * ld, D, D, ld, 1}}; }
  Bf16Batch kv_rows_t(int64_t n) const { return {{1, 1, 1, D, n}, {T * ld, D, D, 1, ld}}; }
  // A block (m, n) of the group's (T,T) score matrices, or the block transposed (n, m).
  Bf16Batch scores(int64_t m, int64_t n, int64_t heads = 0) const {
    return {{1, 1, heads ? heads : group, m, n}, {T * T, T * T, T * T, T, 1}};
  }
  Bf16Batch scores_t(int64_t m, int64_t n) const { return {{1, 1, 1, n, m}, {T * T, T * T, T * T, 1, T}}; }
  std::array<int64_t, 5> score_strides() const { return {T * T, T * T, T * T, T, 1}; }
  std::array<int64_t, 5> row_strides(int64_t row) const { return {T * row, D, D, row, 1}; }
};

Task task_shape(int64_t T, int64_t NH, int64_t NKV, int64_t D) {
  TESSERA_CHECK(NKV > 0 && NH % NKV == 0, "attention: {} query heads are not a multiple of {} kv heads", NH, NKV);
  return {T, NH, NKV, D, NH / NKV, (NH + 2 * NKV) * D, NH * D};
}

// fn(b, g) for every sequence and kv head, in parallel; the products inside run on the calling
// thread (no nested parallelism), the data of one task staying in its core's cache.
template <typename Fn>
void for_each_task(int64_t B, const Task& s, Fn&& fn) {
#pragma omp parallel for schedule(dynamic) if (parallel_worth(B * s.NH * s.T * s.T * s.D))
  for (int64_t bg = 0; bg < B * s.NKV; ++bg) fn(bg / s.NKV, bg % s.NKV);
}

}  // namespace

void attention_forward_bf16(float* out, float* att, uint16_t* attb, const uint16_t* qkvb, int64_t B, int64_t Tlen,
                            int64_t NH, int64_t NKV, int64_t D) {
  const Task s = task_shape(Tlen, NH, NKV, D);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for_each_task(B, s, [&](int64_t b, int64_t g) {
    const int64_t h0 = g * s.group, TT = Tlen * Tlen;
    const uint16_t* row0 = qkvb + b * Tlen * s.ld;
    const uint16_t *q = row0 + h0 * D, *k = row0 + (NH + g) * D, *v = row0 + (NH + NKV + g) * D;
    float* p = att + (b * NH + h0) * TT;  // (group, T, T)
    uint16_t* pb = attb + (b * NH + h0) * TT;
    for (int64_t r0 = 0; r0 < Tlen; r0 += kRows) {
      const int64_t r1 = std::min(Tlen, r0 + kRows);
      // p rows [r0, r1), keys [0, r1) = scale * q[r0:r1] @ k[0:r1]^T
      gemm_bf16_batched(s.query_rows(s.ld, r1 - r0), q + r0 * s.ld, s.kv_rows_t(r1), k, s.score_strides(),
                        p + r0 * Tlen, scale, false);
      for (int64_t i = 0; i < s.group; ++i) {
        for (int64_t t = r0; t < r1; ++t) {
          float* row = p + i * TT + t * Tlen;
          causal_softmax_row(row, t + 1, Tlen);
          round_to_bf16_serial(pb + i * TT + t * Tlen, row, r1);
        }
      }
      // out[r0:r1] = p[r0:r1, 0:r1] @ v[0:r1]
      gemm_bf16_batched(s.scores(r1 - r0, r1), pb + r0 * Tlen, s.kv_rows(r1), v, s.row_strides(s.C),
                        out + (b * Tlen + r0) * s.C + h0 * D, 1.0f, false);
    }
  });
}

void attention_backward_bf16(float* dqkv, const uint16_t* doutb, const uint16_t* qkvb, const float* att,
                             const uint16_t* attb, int64_t B, int64_t Tlen, int64_t NH, int64_t NKV, int64_t D) {
  const Task s = task_shape(Tlen, NH, NKV, D);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for_each_task(B, s, [&](int64_t b, int64_t g) {
    const int64_t h0 = g * s.group, TT = Tlen * Tlen;
    const int64_t qkv0 = b * Tlen * s.ld;
    const uint16_t *q = qkvb + qkv0 + h0 * D, *k = qkvb + qkv0 + (NH + g) * D, *v = qkvb + qkv0 + (NH + NKV + g) * D;
    float *dq = dqkv + qkv0 + h0 * D, *dk = dqkv + qkv0 + (NH + g) * D, *dv = dqkv + qkv0 + (NH + NKV + g) * D;
    const uint16_t* dout = doutb + b * Tlen * s.C + h0 * D;
    const float* p = att + (b * NH + h0) * TT;
    const uint16_t* pb = attb + (b * NH + h0) * TT;
    // This thread's scratch for the group: d(p), then d(scores) in f32 and in bf16 (group, T, T).
    thread_local std::vector<float> dp;
    thread_local std::vector<uint16_t> ds;
    if (dp.size() < static_cast<size_t>(s.group * TT)) dp.resize(static_cast<size_t>(s.group * TT));
    if (ds.size() < static_cast<size_t>(s.group * TT)) ds.resize(static_cast<size_t>(s.group * TT));
    for (int64_t r0 = 0; r0 < Tlen; r0 += kRows) {
      const int64_t r1 = std::min(Tlen, r0 + kRows);
      // d(p)[r0:r1, 0:r1] = dout[r0:r1] @ v[0:r1]^T, then d(scores) on the same rows
      gemm_bf16_batched(s.query_rows(s.C, r1 - r0), dout + r0 * s.C, s.kv_rows_t(r1), v, s.score_strides(),
                        dp.data() + r0 * Tlen, 1.0f, false);
      for (int64_t i = 0; i < s.group; ++i) {
        for (int64_t t = r0; t < r1; ++t) {
          float* row = dp.data() + i * TT + t * Tlen;
          causal_softmax_backward_row(row, p + i * TT + t * Tlen, scale, t + 1, r1);
          round_to_bf16_serial(ds.data() + i * TT + t * Tlen, row, r1);
        }
      }
      // dq[r0:r1] += ds[r0:r1, 0:r1] @ k[0:r1]
      gemm_bf16_batched(s.scores(r1 - r0, r1), ds.data() + r0 * Tlen, s.kv_rows(r1), k, s.row_strides(s.ld),
                        dq + r0 * s.ld, 1.0f, true);
    }
    // Keys [k0, k1) hear from the rows [k0, T): dk[k0:k1] += ds[k0:T, k0:k1]^T @ q[k0:T] and
    // dv[k0:k1] += p[k0:T, k0:k1]^T @ dout[k0:T], one query head of the group after the other.
    for (int64_t i = 0; i < s.group; ++i) {
      for (int64_t k0 = 0; k0 < Tlen; k0 += kRows) {
        const int64_t m = std::min(Tlen, k0 + kRows) - k0, n = Tlen - k0;
        gemm_bf16_batched(s.scores_t(n, m), ds.data() + i * TT + k0 * Tlen + k0, s.query_rows(s.ld, n, 1),
                          q + i * D + k0 * s.ld, s.row_strides(s.ld), dk + k0 * s.ld, 1.0f, true);
        gemm_bf16_batched(s.scores_t(n, m), pb + i * TT + k0 * Tlen + k0, s.query_rows(s.C, n, 1),
                          dout + i * D + k0 * s.C, s.row_strides(s.ld), dv + k0 * s.ld, 1.0f, true);
      }
    }
  });
}

}  // namespace tessera::core::cpu
