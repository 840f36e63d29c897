// GEMM through cuBLAS and the linear layer built on it.
#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::f32: return CUDA_R_32F;
    case DType::bf16: return CUDA_R_16BF;
    default: TESSERA_FAIL("no GPU GEMM for dtype {}", dtype_name(t));
  }
}

// out (N,OC) = bias broadcast over rows
template <typename T>
__global__ void broadcast_rows_kernel(T* out, const T* bias, int64_t N, int64_t OC) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * OC;
       i += int64_t(gridDim.x) * blockDim.x) {
    out[i] = bias[i % OC];
  }
}

// dbias (OC) += column sums of dout (N,OC): one thread per column, rows in order.
template <typename T>
__global__ void column_sum_kernel(T* dbias, const T* dout, int64_t N, int64_t OC) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= OC) return;
  float acc = 0.0f;
  for (int64_t n = 0; n < N; ++n) acc += to_f32(dout[n * OC + c]);
  dbias[c] = from_f32<T>(to_f32(dbias[c]) + acc);
}

}  // namespace

void gemm(GpuContext& ctx, bool trans_a, bool trans_b, const Tensor& A, const Tensor& B,
          const Tensor& C, float alpha, float beta) {
  const DType dt = C.dtype();
  check_gpu(A, "gemm A", dt);
  check_gpu(B, "gemm B", dt);
  check_gpu(C, "gemm C", dt);
  TESSERA_CHECK(A.dim() == 2 && B.dim() == 2 && C.dim() == 2, "gemm operands must be 2-D");
  const int64_t M = C.size(0), N = C.size(1);
  const int64_t K = trans_a ? A.size(0) : A.size(1);
  TESSERA_CHECK((trans_a ? A.size(1) : A.size(0)) == M && (trans_b ? B.size(1) : B.size(0)) == K &&
                    (trans_b ? B.size(0) : B.size(1)) == N,
                "gemm shapes {} x {} -> {} do not agree", shape_str(A.shape()), shape_str(B.shape()),
                shape_str(C.shape()));
  if (M == 0 || N == 0) return;
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  const cudaDataType_t type = cuda_type(dt);
  CUBLAS_CHECK(cublasGemmEx(static_cast<cublasHandle_t>(ctx.cublas_handle()),
                            trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                            static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha,
                            B.raw(), type, static_cast<int>(B.size(1)), A.raw(), type,
                            static_cast<int>(A.size(1)), &beta, C.raw(), type, static_cast<int>(N),
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void linear_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp, const Tensor& weight,
                    const Tensor& bias) {
  const int64_t N = inp.numel() / inp.size(-1), OC = weight.size(0);
  const Tensor out2 = out.reshape({N, OC});
  dispatch_gpu(out.dtype(), [&]<typename T>() {
    if (bias.defined()) {
      check_gpu(bias, "bias", out.dtype());
      broadcast_rows_kernel<T><<<grid_for(N * OC, 256), 256, 0, stream_of(ctx)>>>(ptr<T>(out), ptr<T>(bias), N, OC);
      check_launch();
    }
  });
  gemm(ctx, false, true, inp.reshape({N, inp.size(-1)}), weight, out2, 1.0f, bias.defined() ? 1.0f : 0.0f);
}

void linear_backward(GpuContext& ctx, const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                     const Tensor& dout, const Tensor& inp, const Tensor& weight) {
  const int64_t C = weight.size(1), OC = weight.size(0), N = dout.numel() / OC;
  const Tensor dout2 = dout.reshape({N, OC}), inp2 = inp.reshape({N, C});
  if (dinp.defined()) gemm(ctx, false, false, dout2, weight, dinp.reshape({N, C}), 1.0f, 1.0f);
  if (dweight.defined()) gemm(ctx, true, false, dout2, inp2, dweight, 1.0f, 1.0f);
  if (dbias.defined()) {
    check_gpu(dbias, "dbias", dout.dtype());
    dispatch_gpu(dout.dtype(), [&]<typename T>() {
      column_sum_kernel<T><<<grid_for(OC, 256), 256, 0, stream_of(ctx)>>>(ptr<T>(dbias), ptr<T>(dout), N, OC);
      check_launch();
    });
  }
}

}  // namespace tessera::core::cuda
