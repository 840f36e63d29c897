#pragma once
// Statistics of a prepared split's tokens.
#include <string>
#include <vector>

namespace tessera::datasets {

// The entropy (nats per token) of the unigram distribution of the tokens in these shards: the
// loss of a model that knows token frequencies and nothing else, the baseline a language model
// must beat.
double unigram_entropy(const std::vector<std::string>& shard_paths);

}  // namespace tessera::datasets
