// Causal self-attention with grouped-query attention: one block per (sequence, head, query row).
// A straightforward reference-quality kernel (scores in shared memory, fp32 throughout); a fused
// flash-style kernel replaces it when GPU training performance becomes the goal.
#include "core/cuda/kernel_utils.cuh"

namespace tessera::core::cuda {

namespace {

constexpr int kThreads = 128;

// grid (T, NH, B); dynamic shared memory: T floats (the score row).
template <typename T>
__global__ void attention_forward_kernel(T* out, float* att, const T* qkv, int64_t Tlen, int64_t NH,
                                         int64_t NKV, int64_t D, float scale) {
  extern __shared__ float row[];
  const int64_t t = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t ld = (NH + 2 * NKV) * D, g = h / (NH / NKV);
  const T* q = qkv + (b * Tlen + t) * ld + h * D;
  const T* base = qkv + b * Tlen * ld;
  float mx = -INFINITY;
  for (int64_t j = threadIdx.x; j <= t; j += blockDim.x) {
    const T* k = base + j * ld + (NH + g) * D;
    float s = 0.0f;
    for (int64_t d = 0; d < D; ++d) s += to_f32(q[d]) * to_f32(k[d]);
    row[j] = s * scale;
    mx = fmaxf(mx, row[j]);
  }
  mx = block_reduce<true>(mx);
  float sum = 0.0f;
  for (int64_t j = threadIdx.x; j <= t; j += blockDim.x) {
    row[j] = expf(row[j] - mx);
    sum += row[j];
  }
  const float inv = 1.0f / block_reduce<false>(sum);
  float* p = att + ((b * NH + h) * Tlen + t) * Tlen;
  for (int64_t j = threadIdx.x; j < Tlen; j += blockDim.x) p[j] = j <= t ? row[j] * inv : 0.0f;
  __syncthreads();
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int64_t j = 0; j <= t; ++j) acc += p[j] * to_f32(base[j * ld + (NH + NKV + g) * D + d]);
    out[(b * Tlen + t) * NH * D + h * D + d] = from_f32<T>(acc);
  }
}

// grid (T, NH, B); dynamic shared memory: T floats (ds for this query row).
template <typename T>
__global__ void attention_backward_kernel(T* dqkv, const T* dout, const T* qkv, const float* att,
                                          int64_t Tlen, int64_t NH, int64_t NKV, int64_t D, float scale) {
  extern __shared__ float ds[];
  const int64_t t = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t ld = (NH + 2 * NKV) * D, g = h / (NH / NKV);
  const T* base = qkv + b * Tlen * ld;
  T* dbase = dqkv + b * Tlen * ld;
  const T* dy = dout + (b * Tlen + t) * NH * D + h * D;
  const float* p = att + ((b * NH + h) * Tlen + t) * Tlen;
  // dp_j = dy . v_j ; ds_j = scale * p_j * (dp_j - sum_k p_k dp_k)
  float dot = 0.0f;
  for (int64_t j = threadIdx.x; j <= t; j += blockDim.x) {
    const T* v = base + j * ld + (NH + NKV + g) * D;
    float dp = 0.0f;
    for (int64_t d = 0; d < D; ++d) dp += to_f32(dy[d]) * to_f32(v[d]);
    ds[j] = dp;
    dot += p[j] * dp;
  }
  dot = block_reduce<false>(dot);
  for (int64_t j = threadIdx.x; j <= t; j += blockDim.x) ds[j] = scale * p[j] * (ds[j] - dot);
  __syncthreads();
  // dq_t += ds @ k (this block is the only writer of its query row)
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int64_t j = 0; j <= t; ++j) acc += ds[j] * to_f32(base[j * ld + (NH + g) * D + d]);
    T* dq = dbase + t * ld + h * D + d;
    *dq = from_f32<T>(to_f32(*dq) + acc);
  }
  // dk_j += ds_j q_t ; dv_j += p_j dy (rows and heads of a group share them: atomics)
  const T* q = base + t * ld + h * D;
  for (int64_t i = threadIdx.x; i < (t + 1) * D; i += blockDim.x) {
    const int64_t j = i / D, d = i % D;
    atomic_add(dbase + j * ld + (NH + g) * D + d, ds[j] * to_f32(q[d]));
    atomic_add(dbase + j * ld + (NH + NKV + g) * D + d, p[j] * to_f32(dy[d]));
  }
}

void check_attention(const Tensor& qkv, const Tensor& att, int64_t NH, int64_t NKV, int64_t D) {
  TESSERA_CHECK(NKV > 0 && NH % NKV == 0, "attention: {} query heads are not a multiple of {} kv heads", NH, NKV);
  TESSERA_CHECK(qkv.dim() == 3 && qkv.size(2) == (NH + 2 * NKV) * D, "qkv must be (B,T,(NH+2*NKV)*D), got {}",
                shape_str(qkv.shape()));
  check_gpu(qkv, "qkv", qkv.dtype());
  check_gpu(att, "att", DType::f32);
  TESSERA_CHECK(att.numel() == qkv.size(0) * NH * qkv.size(1) * qkv.size(1), "att must be (B,NH,T,T)");
  TESSERA_CHECK(qkv.size(1) * 4 <= 48 * 1024, "T = {} exceeds this kernel's shared memory", qkv.size(1));
}

}  // namespace

void attention_forward(GpuContext& ctx, const Tensor& out, const Tensor& att, const Tensor& qkv,
                       int64_t NH, int64_t NKV, int64_t D) {
  check_attention(qkv, att, NH, NKV, D);
  check_gpu(out, "attention out", qkv.dtype());
  const int64_t B = qkv.size(0), Tlen = qkv.size(1);
  const dim3 grid(static_cast<unsigned>(Tlen), static_cast<unsigned>(NH), static_cast<unsigned>(B));
  dispatch_gpu(qkv.dtype(), [&]<typename T>() {
    attention_forward_kernel<T><<<grid, kThreads, Tlen * sizeof(float), stream_of(ctx)>>>(
        ptr<T>(out), ptr<float>(att), ptr<T>(qkv), Tlen, NH, NKV, D, 1.0f / sqrtf(static_cast<float>(D)));
  });
  check_launch();
}

void attention_backward(GpuContext& ctx, const Tensor& dqkv, const Tensor& dout, const Tensor& qkv,
                        const Tensor& att, int64_t NH, int64_t NKV, int64_t D) {
  check_attention(qkv, att, NH, NKV, D);
  check_gpu(dqkv, "dqkv", qkv.dtype());
  check_gpu(dout, "attention dout", qkv.dtype());
  const int64_t B = qkv.size(0), Tlen = qkv.size(1);
  const dim3 grid(static_cast<unsigned>(Tlen), static_cast<unsigned>(NH), static_cast<unsigned>(B));
  dispatch_gpu(qkv.dtype(), [&]<typename T>() {
    attention_backward_kernel<T><<<grid, kThreads, Tlen * sizeof(float), stream_of(ctx)>>>(
        ptr<T>(dqkv), ptr<T>(dout), ptr<T>(qkv), ptr<float>(att), Tlen, NH, NKV, D,
        1.0f / sqrtf(static_cast<float>(D)));
  });
  check_launch();
}

}  // namespace tessera::core::cuda
