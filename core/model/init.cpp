#include "core/model/init.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tessera::core {

namespace {

uint64_t mix64(uint64_t z) {  // SplitMix64's finaliser: a bijection with good avalanche
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A uniform double in (0, 1]: 53 random bits, never 0 (Box-Muller takes its log).
double uniform_at(uint64_t key, uint64_t counter) {
  const uint64_t bits = mix64(key + 0x9e3779b97f4a7c15ull * (counter + 1));
  return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53;
}

}  // namespace

uint64_t init_key(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the name
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return mix64(h ^ mix64(seed));
}

double normal_at(uint64_t key, uint64_t index) {
  const double u1 = uniform_at(key, 2 * index), u2 = uniform_at(key, 2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void initialize(ParamRegistry& params, uint64_t seed) {
  for (size_t p = 0; p < params.size(); ++p) {
    const ParamInfo& info = params.info(p);
    const Tensor& t = params.tensor(p);
    const uint64_t key = init_key(seed, info.name);
    dispatch_float(t.dtype(), [&]<typename T>() {
      T* data = t.data<T>();
      const int64_t n = t.numel();
      switch (info.init) {
        case InitKind::zeros: std::fill(data, data + n, T(0)); break;
        case InitKind::ones: std::fill(data, data + n, T(1)); break;
        case InitKind::normal: {
          // Drawn at the element's index in the full tensor, so a shard is exactly its slice.
          const ShardIndexMap full(info, params.tp_rank(), params.tp_size());
#pragma omp parallel for
          for (int64_t i = 0; i < n; ++i) {
            data[i] = static_cast<T>(info.init_std * normal_at(key, static_cast<uint64_t>(full(i))));
          }
          break;
        }
      }
    });
  }
}

}  // namespace tessera::core
