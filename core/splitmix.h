#pragma once
// SplitMix64: a small, fully specified generator and mixer, so that seeded choices are the same on
// every platform and standard library.
#include <cstdint>

namespace tessera {

// The next value of the sequence whose state is `state` (advanced).
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A well-mixed 64-bit hash of x: the first value of the sequence started at x.
inline uint64_t mix64(uint64_t x) { return splitmix64(x); }

}  // namespace tessera
