#pragma once
// The residual connection: x += y, elementwise.
#include <cstdint>

namespace tessera::core::cpu {

// x (n) += y (n)
template <typename T>
void residual_add(T* x, const T* y, int64_t n);

}  // namespace tessera::core::cpu
