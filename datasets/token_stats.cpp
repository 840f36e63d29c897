#include "datasets/token_stats.h"

#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "datasets/shard.h"

namespace tessera::datasets {

double unigram_entropy(const std::vector<std::string>& shard_paths) {
  std::unordered_map<int32_t, uint64_t> counts;
  uint64_t total = 0;
  for (const auto& path : shard_paths) {
    for (int32_t id : ShardReader(path).read_all_tokens()) ++counts[id];
  }
  for (const auto& [id, n] : counts) total += n;
  TESSERA_CHECK(total > 0, "no tokens to measure");
  double h = 0;
  for (const auto& [id, n] : counts) {
    const double p = static_cast<double>(n) / static_cast<double>(total);
    h -= p * std::log(p);
  }
  return h;
}

}  // namespace tessera::datasets
