#pragma once
// Normally distributed test data, reproducible from a seed (std::mt19937, so the same seed gives
// the same values on every platform's standard library that implements it as specified).
#include <cstdint>
#include <random>
#include <vector>

namespace tessera::testing_support {

// n draws of N(0, scale^2).
template <typename T = float>
std::vector<T> randn(size_t n, uint32_t seed, T scale = T(1)) {
  std::mt19937 gen(seed);
  std::normal_distribution<T> nd(T(0), scale);
  std::vector<T> v(n);
  for (T& x : v) x = nd(gen);
  return v;
}

}  // namespace tessera::testing_support
