#include "core/cpu/linear.h"

#include <algorithm>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/gemm_bf16.h"
#include "core/cpu/parallel.h"
#include "core/cpu/reduce.h"
#include "core/error.h"

namespace tessera::core::cpu {

// out (N,OC) = residual + bias, either of them null (not both).
template <typename T>
static void init_rows(T* out, const T* bias, const T* residual, int64_t N, int64_t OC) {
#pragma omp parallel for if (parallel_worth(N * OC))
  for (int64_t n = 0; n < N; ++n) {
    T* o = out + n * OC;
    if (!residual) {
      std::copy(bias, bias + OC, o);
    } else if (!bias) {
      std::copy(residual + n * OC, residual + (n + 1) * OC, o);
    } else {
      for (int64_t c = 0; c < OC; ++c) o[c] = residual[n * OC + c] + bias[c];
    }
  }
}

// dst (cols,rows) = src (rows,cols)^T, or += when accumulate. Bands of 8 source rows: the 8 rows
// read side by side stay in the L1 cache even when `cols` is a power of two (their lines share a
// cache set), and each destination row gets 8 contiguous values per visit.
template <typename T>
static void transpose(T* dst, const T* src, int64_t rows, int64_t cols, bool accumulate) {
  constexpr int64_t kBand = 8;
#pragma omp parallel for if (parallel_worth(rows * cols))
  for (int64_t r0 = 0; r0 < rows; r0 += kBand) {
    const int64_t nr = std::min(kBand, rows - r0);
    for (int64_t c = 0; c < cols; ++c) {
      T* d = dst + c * rows + r0;
      for (int64_t r = 0; r < nr; ++r) d[r] = (accumulate ? d[r] : T(0)) + src[(r0 + r) * cols + c];
    }
  }
}

// out (N,OC) = inp (N,C) @ weight^T + beta * out. When the layer narrows (C > OC, mlp.down), the
// weight is transposed first: oneDNN runs (2048, 256, 1024) at ~0.95 of its peak as NN against
// ~0.7 as NT, and the copy is 1/N of the product's work.
template <typename T>
static void gemm_weight_t(T* out, const T* inp, const T* weight, int64_t N, int64_t C, int64_t OC,
                          T beta) {
  if (C <= OC) {
    gemm<T>(false, true, N, OC, C, T(1), inp, C, weight, C, beta, out, OC);
    return;
  }
  thread_local std::vector<T> wt;
  wt.resize(static_cast<size_t>(OC * C));
  transpose(wt.data(), weight, OC, C, /*accumulate=*/false);
  gemm<T>(false, false, N, OC, C, T(1), inp, C, wt.data(), OC, beta, out, OC);
}

template <typename T>
void linear_forward_residual(T* out, const T* inp, const T* weight, const T* bias,
                             const T* residual, int64_t N, int64_t C, int64_t OC,
                             bool batch_invariant) {
  const bool init = bias || residual;
  if (init) init_rows(out, bias, residual, N, OC);
  if (batch_invariant) {
    gemm_nt_rowwise<T>(N, OC, C, inp, C, weight, C, out, OC, init);
  } else {
    gemm_weight_t(out, inp, weight, N, C, OC, init ? T(1) : T(0));
  }
}

template <typename T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int64_t N, int64_t C,
                    int64_t OC, bool batch_invariant) {
  linear_forward_residual<T>(out, inp, weight, bias, nullptr, N, C, OC, batch_invariant);
}

template <typename T>
void add_bias(T* out, const T* bias, int64_t N, int64_t OC) {
#pragma omp parallel for if (parallel_worth(N * OC))
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < OC; ++c) out[n * OC + c] += bias[c];
  }
}

// dweight (OC,C) += dout^T (OC,N) @ inp (N,C). When the layer widens (OC > C: mlp.up, the lm
// head), oneDNN runs the transposed product dweight^T (C,OC) = inp^T @ dout at ~0.95 of its peak
// against ~0.78 (lm head: (256, 8192, 2048) against (8192, 256, 2048)); adding it back
// transposed reads and writes OC*C values, 1/N of the product's work.
template <typename T>
static void weight_grad(T* dweight, const T* dout, const T* inp, int64_t N, int64_t C, int64_t OC) {
  if (OC <= C) {
    gemm<T>(true, false, OC, C, N, T(1), dout, OC, inp, C, T(1), dweight, C);
    return;
  }
  thread_local std::vector<T> dwt;
  dwt.resize(static_cast<size_t>(C * OC));
  gemm<T>(true, false, C, OC, N, T(1), inp, C, dout, OC, T(0), dwt.data(), OC);
  transpose(dweight, dwt.data(), C, OC, /*accumulate=*/true);
}

template <typename T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int64_t N, int64_t C, int64_t OC, bool add_to_dinp) {
  // dinp (N,C) (+)= dout (N,OC) @ weight (OC,C)
  if (dinp) gemm<T>(false, false, N, C, OC, T(1), dout, OC, weight, C, add_to_dinp ? T(1) : T(0), dinp, C);
  if (dweight) weight_grad(dweight, dout, inp, N, C, OC);
  if (dbias) column_sum(dbias, N, OC, [&](int64_t n, int64_t c) { return dout[n * OC + c]; });
}

void linear_forward_bf16(float* out, const uint16_t* xb, const PackedBf16& wt, const float* bias,
                         const float* residual, int64_t N, int64_t C, int64_t OC) {
  TESSERA_CHECK(wt.K() == C && wt.N() == OC, "bf16 linear: weight packed as ({}, {}), the layer is ({}, {})", wt.N(),
                wt.K(), OC, C);
  const bool init = bias || residual;
  if (init) init_rows(out, bias, residual, N, OC);
  gemm_bf16(false, N, xb, C, wt, init, out, OC);
}

void linear_backward_bf16(float* dinp, float* dweight, const uint16_t* db, const uint16_t* xb, const PackedBf16& w,
                          int64_t N, int64_t C, int64_t OC, bool add_to_dinp) {
  TESSERA_CHECK(w.K() == OC && w.N() == C, "bf16 linear: weight packed as ({}, {}), the layer is ({}, {})", w.K(),
                w.N(), OC, C);
  // dinp (N,C) (+)= dout (N,OC) @ weight (OC,C)
  if (dinp) gemm_bf16(false, N, db, OC, w, add_to_dinp, dinp, C);
  if (dweight) {  // dweight (OC,C) += dout^T (OC,N) @ inp (N,C): dout read transposed, inp packed
    thread_local PackedBf16 x;
    x.pack(xb, C, false, N, C);
    gemm_bf16(/*trans_a=*/true, OC, db, OC, x, /*accumulate=*/true, dweight, C);
  }
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int64_t,
                                    int64_t, int64_t, bool);
template void linear_forward<double>(double*, const double*, const double*, const double*, int64_t,
                                     int64_t, int64_t, bool);
template void linear_forward_residual<float>(float*, const float*, const float*, const float*,
                                             const float*, int64_t, int64_t, int64_t, bool);
template void linear_forward_residual<double>(double*, const double*, const double*, const double*,
                                              const double*, int64_t, int64_t, int64_t, bool);
template void add_bias<float>(float*, const float*, int64_t, int64_t);
template void add_bias<double>(double*, const double*, int64_t, int64_t);
template void linear_backward<float>(float*, float*, float*, const float*, const float*,
                                     const float*, int64_t, int64_t, int64_t, bool);
template void linear_backward<double>(double*, double*, double*, const double*, const double*,
                                      const double*, int64_t, int64_t, int64_t, bool);

}  // namespace tessera::core::cpu
