#include "parallel/reduce.h"

#include <algorithm>

namespace tessera::parallel {

namespace {
template <typename T>
void reduce_typed(T* acc, const T* in, size_t count, ReduceOp op) {
  if constexpr (std::is_same_v<T, core::bf16> || std::is_same_v<T, core::f16>) {
    for (size_t i = 0; i < count; ++i) {
      const float a = static_cast<float>(acc[i]), b = static_cast<float>(in[i]);
      acc[i] = T(op == ReduceOp::sum ? a + b : std::max(a, b));
    }
  } else {
    for (size_t i = 0; i < count; ++i) acc[i] = op == ReduceOp::sum ? static_cast<T>(acc[i] + in[i]) : std::max(acc[i], in[i]);
  }
}
}  // namespace

void reduce_into(void* acc, const void* in, size_t count, core::DType dtype, ReduceOp op) {
  core::dispatch_any(dtype, [&]<typename T>() { reduce_typed(static_cast<T*>(acc), static_cast<const T*>(in), count, op); });
}

}  // namespace tessera::parallel
