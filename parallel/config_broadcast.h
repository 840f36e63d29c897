#pragma once
// The rank-0 master's config: rank 0 reads, overrides and validates it and broadcasts the
// canonical TOML; every rank then holds the same Config. A bad config is one CollectiveError on
// every rank (one message, a clean exit), never a hang. Collective: call on every rank.
#include <string>
#include <vector>

#include "run/config.h"
#include "parallel/world.h"

namespace tessera::parallel {

Config load_config(const World& world, const std::string& path, const std::vector<std::string>& overrides);

}  // namespace tessera::parallel
