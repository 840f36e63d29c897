// The int8 linear layer: per-row activation quantisation, then a dp4a GEMV/GEMM over the packed
// int8 weight. Arithmetic and layout: core/cpu/linear_int8.h and core/cpu/quant.h.
#include <cfloat>
#include <cstring>

#include "core/cuda/kernel_utils.cuh"
#include "core/cuda/linear_int8.h"

namespace tessera::core::cuda {

namespace {

constexpr int kQuantThreads = 256;
constexpr int kRowsPerBlock = 4;  // rows sharing each weight word a warp loads

// One block per row: inp (N, C) -> xu (N, Cp) u8, sx (N), zp (N), as cpu::quantize_rows.
__global__ void quantize_rows_kernel(uint8_t* xu, float* sx, int32_t* zp, const float* inp,
                                     int64_t C, int64_t Cp) {
  const int64_t n = blockIdx.x;
  const float* x = inp + n * C;
  uint8_t* q = xu + n * Cp;
  float lo = 0.0f, hi = 0.0f, bad = 0.0f;
  for (int64_t k = threadIdx.x; k < C; k += blockDim.x) {
    const float v = x[k];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    bad = (v - v == 0.0f) ? bad : 1.0f;
  }
  // Minima and maxima are exact in any order (a zero's sign does not change the results below).
  const float mn = -block_reduce<true>(-lo);
  const float mx = block_reduce<true>(hi);
  const bool nonfinite = block_reduce<true>(bad) != 0.0f;
  const float scale = __fsub_rn(__fdiv_rn(mx, 255.0f), __fdiv_rn(mn, 255.0f));
  if (nonfinite || !(scale >= FLT_MIN)) {
    for (int64_t k = threadIdx.x; k < Cp; k += blockDim.x) q[k] = 0;
    if (threadIdx.x == 0) {
      sx[n] = nonfinite ? __int_as_float(0x7fc00000) : 0.0f;
      zp[n] = 0;
    }
    return;
  }
  const float inv = __fdiv_rn(1.0f, scale);
  const int32_t z = min(max(static_cast<int32_t>(rintf(__fmul_rn(-mn, inv))), 0), 255);
  for (int64_t k = threadIdx.x; k < Cp; k += blockDim.x) {
    const int32_t v = k < C ? static_cast<int32_t>(rintf(__fmul_rn(x[k], inv))) + z : 0;
    q[k] = static_cast<uint8_t>(min(max(v, 0), 255));
  }
  if (threadIdx.x == 0) {
    sx[n] = scale;
    zp[n] = z;
  }
}

// sum of 4 products u8 (a) x s8 (b), added to c.
__device__ __forceinline__ int32_t dp4a_us(uint32_t a, int32_t b, int32_t c) {
  int32_t d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// Block (4 warps) = 64 channels (tile blockIdx.x) x up to kRowsPerBlock rows (from blockIdx.y).
// Warp w reads panel 4 * tile + w: lane l holds channel l % 16 and the groups g = l / 16 (mod 2),
// so a warp's 32 words are one coalesced 128-byte read of two panel rows.
__global__ void linear_int8_kernel(float* out, const uint8_t* xu, const float* sx,
                                   const int32_t* zp, const int8_t* values, const float* scales,
                                   const int32_t* wsum, const float* bias, const float* residual,
                                   int64_t N, int64_t OC, int64_t Cp) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t G = Cp / 4;
  const int64_t panel = int64_t(blockIdx.x) * 4 + warp;
  const int32_t* wp = reinterpret_cast<const int32_t*>(values + panel * G * 64);
  const int64_t r0 = int64_t(blockIdx.y) * kRowsPerBlock;
  const int nr = static_cast<int>(min(int64_t(kRowsPerBlock), N - r0));
  const int c = lane % 16;
  int32_t acc[kRowsPerBlock] = {};
  for (int64_t g = lane / 16; g < G; g += 2) {
    const int32_t wv = wp[g * 16 + c];
#pragma unroll
    for (int r = 0; r < kRowsPerBlock; ++r) {
      if (r < nr) {
        const uint32_t xv = reinterpret_cast<const uint32_t*>(xu + (r0 + r) * Cp)[g];
        acc[r] = dp4a_us(xv, wv, acc[r]);
      }
    }
  }
  const int64_t o = panel * 16 + c;
#pragma unroll
  for (int r = 0; r < kRowsPerBlock; ++r) {
    const int32_t total = acc[r] + __shfl_xor_sync(0xffffffffu, acc[r], 16);
    if (r < nr && lane < 16 && o < OC) {
      const int64_t n = r0 + r;
      const float s = __fmul_rn(sx[n], scales[o]);
      const float v = __fmul_rn(__int2float_rn(total - zp[n] * wsum[o]), s);
      float y = __fadd_rn(v, bias ? bias[o] : 0.0f);
      if (residual) y = __fadd_rn(y, residual[n * OC + o]);
      out[n * OC + o] = y;
    }
  }
}

Tensor upload_bytes(const void* src, size_t bytes, const Shape& shape, DType dt) {
  Tensor t = Tensor::empty(shape, dt);
  std::memcpy(t.raw(), src, bytes);
  return t.to_device(Device::cuda);
}

}  // namespace

GpuQuantizedWeight upload_quantized(const cpu::QuantizedWeight& w) {
  GpuQuantizedWeight g;
  g.OC = w.OC;
  g.C = w.C;
  g.OCp = w.OCp;
  g.Cp = w.Cp;
  g.values = upload_bytes(w.values.data(), w.values.size(), {w.OCp * w.Cp}, DType::i8);
  g.scales = upload_bytes(w.scales.data(), w.scales.size() * 4, {w.OCp}, DType::f32);
  g.wsum = upload_bytes(w.wsum.data(), w.wsum.size() * 4, {w.OCp}, DType::i32);
  return g;
}

void linear_int8_forward(GpuContext& ctx, const Tensor& out, const Tensor& inp,
                         const GpuQuantizedWeight& w, const Tensor& bias, const Tensor& residual) {
  check_gpu(out, "int8 linear out", DType::f32);
  check_gpu(inp, "int8 linear inp", DType::f32);
  check_gpu(w.values, "int8 linear values", DType::i8);
  TESSERA_CHECK(inp.dim() == 2 && inp.size(1) == w.C && out.dim() == 2 && out.size(0) == inp.size(0) &&
                    out.size(1) == w.OC,
                "int8 linear shapes: inp {} out {} for a ({}, {}) weight", shape_str(inp.shape()),
                shape_str(out.shape()), w.OC, w.C);
  if (bias.defined()) check_gpu(bias, "int8 linear bias", DType::f32);
  if (residual.defined()) check_gpu(residual, "int8 linear residual", DType::f32);
  const int64_t N = inp.size(0);
  if (N == 0) return;
  // Scratch per call (N * Cp bytes); freeing it (cudaFree) waits for the kernels that use it.
  const Tensor xu = Tensor::empty({N * w.Cp}, DType::i8, Device::cuda);
  const Tensor sx = Tensor::empty({N}, DType::f32, Device::cuda);
  const Tensor zp = Tensor::empty({N}, DType::i32, Device::cuda);
  const cudaStream_t stream = stream_of(ctx);
  quantize_rows_kernel<<<static_cast<unsigned>(N), kQuantThreads, 0, stream>>>(
      ptr<uint8_t>(xu), ptr<float>(sx), ptr<int32_t>(zp), ptr<float>(inp), w.C, w.Cp);
  check_launch();
  const dim3 grid(static_cast<unsigned>(w.OCp / 64),
                  static_cast<unsigned>((N + kRowsPerBlock - 1) / kRowsPerBlock));
  linear_int8_kernel<<<grid, 128, 0, stream>>>(ptr<float>(out), ptr<uint8_t>(xu), ptr<float>(sx),
                                               ptr<int32_t>(zp), ptr<int8_t>(w.values),
                                               ptr<float>(w.scales), ptr<int32_t>(w.wsum),
                                               ptr<float>(bias), ptr<float>(residual), N, w.OC, w.Cp);
  check_launch();
}

}  // namespace tessera::core::cuda
