#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

GpuContext::GpuContext(int device) : device_(device) {
  CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t stream = nullptr;
  // A blocking stream: host copies (cudaMemcpy on the default stream, as Tensor::to_device does)
  // wait for the kernels queued on it, so results are never read early.
  CUDA_CHECK(cudaStreamCreate(&stream));
  cublasHandle_t handle = nullptr;
  const cublasStatus_t st = cublasCreate(&handle);
  if (st != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    TESSERA_FAIL("cublasCreate failed: {}", cublasGetStatusString(st));
  }
  cublasSetStream(handle, stream);
  stream_ = stream;
  cublas_ = handle;
}

GpuContext::~GpuContext() {
  cublasDestroy(static_cast<cublasHandle_t>(cublas_));
  cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void GpuContext::synchronize() const { CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_))); }

}  // namespace tessera::core::cuda
