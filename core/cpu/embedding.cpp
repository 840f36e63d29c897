#include "core/cpu/embedding.h"

#include "core/cpu/parallel.h"
#include "core/error.h"

namespace tessera::core::cpu {

namespace {

// Row of token `token` in the shard, or -1 when another shard holds it.
int64_t shard_row(int32_t token, VocabShard shard) {
  const int64_t row = token - shard.begin;
  return shard.rows < 0 || (row >= 0 && row < shard.rows) ? row : -1;
}

}  // namespace

template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const int32_t* pos, const T* wte,
                       const T* wpe, int64_t B, int64_t Tlen, int64_t C, int64_t V, int64_t P,
                       VocabShard shard) {
  const int64_t N = B * Tlen;
  for (int64_t i = 0; i < N; ++i) {
    TESSERA_CHECK(tokens[i] >= 0 && tokens[i] < V, "token id {} at position {} is outside [0, {})",
                  tokens[i], i, V);
    if (wpe) {
      const int64_t p = pos ? pos[i] : i % Tlen;
      TESSERA_CHECK(p >= 0 && p < P, "position {} is outside [0, {}) (the model's seq_len)", p, P);
    }
  }
#pragma omp parallel for if (parallel_worth(N * C))
  for (int64_t i = 0; i < N; ++i) {
    const int64_t row = shard_row(tokens[i], shard);
    T* o = out + i * C;
    const T* pe = wpe ? wpe + (pos ? pos[i] : i % Tlen) * C : nullptr;
    if (row < 0) {
      for (int64_t c = 0; c < C; ++c) o[c] = pe ? pe[c] : T(0);
      continue;
    }
    const T* te = wte + row * C;
    if (pe) {
      for (int64_t c = 0; c < C; ++c) o[c] = te[c] + pe[c];
    } else {
      for (int64_t c = 0; c < C; ++c) o[c] = te[c];
    }
  }
}

template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens,
                        const int32_t* pos, int64_t B, int64_t Tlen, int64_t C, VocabShard shard) {
  // Rows may repeat a token, so the scatter-add runs in order on one thread; it is O(N*C), far
  // below the GEMMs.
  const int64_t N = B * Tlen;
  for (int64_t i = 0; i < N; ++i) {
    const T* d = dout + i * C;
    const int64_t row = shard_row(tokens[i], shard);
    if (dwte && row >= 0) {
      T* g = dwte + row * C;
      for (int64_t c = 0; c < C; ++c) g[c] += d[c];
    }
    if (dwpe) {
      T* g = dwpe + (pos ? pos[i] : i % Tlen) * C;
      for (int64_t c = 0; c < C; ++c) g[c] += d[c];
    }
  }
}

template void embedding_forward<float>(float*, const int32_t*, const int32_t*, const float*,
                                       const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                       VocabShard);
template void embedding_forward<double>(double*, const int32_t*, const int32_t*, const double*,
                                        const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        VocabShard);
template void embedding_backward<float>(float*, float*, const float*, const int32_t*,
                                        const int32_t*, int64_t, int64_t, int64_t, VocabShard);
template void embedding_backward<double>(double*, double*, const double*, const int32_t*,
                                         const int32_t*, int64_t, int64_t, int64_t, VocabShard);

}  // namespace tessera::core::cpu
