#pragma once
// Layout-independent initialisation. Element i of parameter `name` is a pure function of
// (seed, name, i): a counter-based generator (SplitMix64's mixer over a counter keyed by the seed
// and a hash of the name) feeds a Box-Muller transform. A tensor-parallel shard draws exactly the
// values of its slice of the full tensor, so the model is identical for every layout.
#include <cstdint>
#include <string_view>

#include "core/model/params.h"

namespace tessera::core {

// The 64-bit key of one parameter's stream.
uint64_t init_key(uint64_t seed, std::string_view name);
// Standard normal sample number `index` of stream `key`.
double normal_at(uint64_t key, uint64_t index);

// Fills every parameter of `params` according to its ParamInfo. A tensor-parallel shard gets the
// values of its elements' indices in the full tensor.
void initialize(ParamRegistry& params, uint64_t seed);

}  // namespace tessera::core
