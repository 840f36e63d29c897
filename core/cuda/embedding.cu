// Token (+ learned position) embedding. Token ids are checked on the host first: a bad id is a
// tessera::Error, never an out-of-bounds read.
#include <vector>

#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

template <typename T>
__global__ void embedding_forward_kernel(T* out, const int32_t* tokens, const T* wte, const T* wpe,
                                         int64_t N, int64_t Tlen, int64_t C) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * C; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / C, c = i % C;
    float v = to_f32(wte[tokens[n] * C + c]);
    if (wpe) v += to_f32(wpe[(n % Tlen) * C + c]);
    out[i] = from_f32<T>(v);
  }
}

template <typename T>
__global__ void embedding_backward_kernel(T* dwte, T* dwpe, const T* dout, const int32_t* tokens,
                                          int64_t N, int64_t Tlen, int64_t C) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * C; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / C, c = i % C;
    const float d = to_f32(dout[i]);
    if (dwte) atomic_add(dwte + tokens[n] * C + c, d);
    if (dwpe) atomic_add(dwpe + (n % Tlen) * C + c, d);
  }
}

}  // namespace

void embedding_forward(GpuContext& ctx, const Tensor& out, const Tensor& tokens, const Tensor& wte,
                       const Tensor& wpe) {
  check_gpu(tokens, "tokens", DType::i32);
  TESSERA_CHECK(tokens.dim() == 2, "tokens must be (B,T), got {}", shape_str(tokens.shape()));
  const int64_t Tlen = tokens.size(1), N = tokens.numel(), V = wte.size(0), C = wte.size(1);
  check_gpu(out, "embedding out", wte.dtype());
  if (wpe.defined()) {
    check_gpu(wpe, "wpe", wte.dtype());
    TESSERA_CHECK(Tlen <= wpe.size(0), "T = {} exceeds the {} learned positions", Tlen, wpe.size(0));
  }
  const Tensor host = tokens.to_device(Device::cpu);
  const int32_t* ids = host.data<int32_t>();
  for (int64_t i = 0; i < N; ++i) {
    TESSERA_CHECK(ids[i] >= 0 && ids[i] < V, "token id {} at position {} is outside [0, {})", ids[i], i, V);
  }
  dispatch_gpu(wte.dtype(), [&]<typename T>() {
    embedding_forward_kernel<T><<<grid_for(N * C, 256), 256, 0, stream_of(ctx)>>>(
        ptr<T>(out), ptr<int32_t>(tokens), ptr<T>(wte), ptr<T>(wpe), N, Tlen, C);
  });
  check_launch();
}

void embedding_backward(GpuContext& ctx, const Tensor& dwte, const Tensor& dwpe, const Tensor& dout,
                        const Tensor& tokens) {
  check_gpu(tokens, "tokens", DType::i32);
  const int64_t Tlen = tokens.size(1), N = tokens.numel(), C = dout.size(-1);
  if (dwte.defined()) check_gpu(dwte, "dwte", dout.dtype());
  if (dwpe.defined()) check_gpu(dwpe, "dwpe", dout.dtype());
  dispatch_gpu(dout.dtype(), [&]<typename T>() {
    embedding_backward_kernel<T><<<grid_for(N * C, 256), 256, 0, stream_of(ctx)>>>(
        ptr<T>(dwte), ptr<T>(dwpe), ptr<T>(dout), ptr<int32_t>(tokens), N, Tlen, C);
  });
  check_launch();
}

}  // namespace tessera::core::cuda
