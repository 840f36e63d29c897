#pragma once
// GPU kernels for the model's ops, mirroring core/cpu/ (same shapes, same conventions: backward
// kernels ADD into their gradient outputs, except the activations', which write). Tensors are CUDA tensors of one compute dtype, f32 or
// bf16, accumulated in f32; saved statistics (mean, rstd), attention probabilities and AdamW state
// are f32. The CPU kernels are the oracle: tests/unit/core/gpu_ops_test.cpp compares the two.
//
// Without CUDA (-DTESSERA_CUDA=OFF) every function throws tessera::Error.
#include <cstdint>

#include "core/cpu/adamw.h"
#include "core/tensor.h"

namespace tessera::core::cuda {

// The cuBLAS handle and the stream every op of one rank runs on. Passed explicitly: there is no
// process-global GPU state.
class GpuContext {
 public:
  explicit GpuContext(int device = 0);
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  void* cublas_handle() const { return cublas_; }  // cublasHandle_t
  void* stream() const { return stream_; }         // cudaStream_t
  void synchronize() const;

 private:
  int device_ = 0;
  void* cublas_ = nullptr;
  void* stream_ = nullptr;
};

// C (M,N) = alpha op(A) op(B) + beta C, row-major, fp32 accumulation (cuBLAS, CUBLAS_COMPUTE_32F).
// A, B, C: 2-D contiguous tensors of one dtype; op(A) = A^T when trans_a.
void gemm(GpuContext& ctx, bool trans_a, bool trans_b, const Tensor& A, const Tensor& B,
          const Tensor& C, float alpha = 1.0f, float beta = 0.0f);

// inp (N,C), weight (OC,C), bias (OC) or undefined -> out (N,OC)
void linear_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp, const Tensor& weight,
                    const Tensor& bias);
// dout (N,OC) -> dinp (N,C) +=, dweight (OC,C) +=, dbias (OC) += (undefined: skipped)
void linear_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                     const Tensor& dout, const Tensor& inp, const Tensor& weight);

// tokens (B,T) int32 (device), wte (V,C), wpe (P,C) or undefined -> out (B,T,C)
void embedding_forward(GpuContext& ctx, const Tensor& out, const Tensor& tokens, const Tensor& wte,
                       const Tensor& wpe);
// dout (B,T,C) -> dwte (V,C) +=, dwpe (P,C) += (undefined: skipped)
void embedding_backward(GpuContext& ctx, const Tensor& dwte, const Tensor& dwpe, const Tensor& dout,
                        const Tensor& tokens);

// inp (N,C), weight (C), bias (C) -> out (N,C), mean (N) f32, rstd (N) f32
void layernorm_forward(GpuContext& ctx, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                       const Tensor& inp, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// dout (N,C) -> dinp (N,C) +=, dweight (C) +=, dbias (C) +=
void layernorm_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight,
                        const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                        const Tensor& weight, const Tensor& mean, const Tensor& rstd);
// inp (N,C), weight (C) -> out (N,C), rstd (N) f32
void rmsnorm_forward(GpuContext& ctx, const Tensor& out, const Tensor& rstd, const Tensor& inp,
                     const Tensor& weight, float eps = 1e-5f);
// dout (N,C) -> dinp (N,C) +=, dweight (C) +=
void rmsnorm_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight, const Tensor& dout,
                      const Tensor& inp, const Tensor& weight, const Tensor& rstd);

// Elementwise, any shape (same numel). The backward kernels write dinp / dgate and dup, and may
// run in place (dinp or dgate being dout).
void gelu_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp);
void gelu_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& inp, const Tensor& dout);
void swiglu_forward(GpuContext& ctx, const Tensor& out, const Tensor& gate, const Tensor& up);
void swiglu_backward(GpuContext& ctx, const Tensor& dgate, const Tensor& dup, const Tensor& dout,
                     const Tensor& gate, const Tensor& up);
void residual_add(GpuContext& ctx, const Tensor& x, const Tensor& y);  // x += y

// qkv (B,T,(NH+2*NKV)*D): rotates the NH query heads and NKV key heads in place (position t).
void rope_forward(GpuContext& ctx, const Tensor& qkv, int64_t NH, int64_t NKV, int64_t D,
                  double theta = 10000.0);
void rope_backward(GpuContext& ctx, const Tensor& dqkv, int64_t NH, int64_t NKV, int64_t D,
                   double theta = 10000.0);

// qkv (B,T,(NH+2*NKV)*D) -> out (B,T,NH*D), att (B,NH,T,T) f32 probabilities
void attention_forward(GpuContext& ctx, const Tensor& out, const Tensor& att, const Tensor& qkv,
                       int64_t NH, int64_t NKV, int64_t D);
// dout (B,T,NH*D) -> dqkv (B,T,(NH+2*NKV)*D) +=
void attention_backward(GpuContext& ctx, const Tensor& dqkv, const Tensor& dout, const Tensor& qkv,
                        const Tensor& att, int64_t NH, int64_t NKV, int64_t D);

// logits (N,V), targets (N) int32 (device; -1 ignored) -> dlogits (N,V) (undefined: none; may be
// logits itself). Returns the mean loss over rows with a target.
double softmax_cross_entropy(GpuContext& ctx, const Tensor& logits, const Tensor& dlogits,
                             const Tensor& targets);

// f32 param, grad, m, v (same numel), updated in place.
void adamw_update(GpuContext& ctx, const Tensor& param, const Tensor& grad, const Tensor& m,
                  const Tensor& v, const cpu::AdamWHyper& hp, bool decay);

}  // namespace tessera::core::cuda
