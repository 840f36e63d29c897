#pragma once
// CUDA_CHECK / CUBLAS_CHECK: turn a failed runtime or cuBLAS call into tessera::Error naming the
// call, the error string and file:line.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/error.h"

#define CUDA_CHECK(call)                                                                   \
  do {                                                                                     \
    const cudaError_t err_ = (call);                                                       \
    TESSERA_CHECK(err_ == cudaSuccess, "{} failed: {}", #call, cudaGetErrorString(err_));  \
  } while (0)

#define CUBLAS_CHECK(call)                                                                       \
  do {                                                                                           \
    const cublasStatus_t st_ = (call);                                                           \
    TESSERA_CHECK(st_ == CUBLAS_STATUS_SUCCESS, "{} failed: {}", #call, cublasGetStatusString(st_)); \
  } while (0)
