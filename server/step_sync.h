#pragma once
// Tensor-parallel serving: rank 0 takes HTTP requests and drives the engines; before every step it
// broadcasts the step's changes (new requests, cancellations, a version to load or unload, stop)
// to the other ranks, which apply them to their own engines in the same order and step with it.
// The engine is deterministic (docs/serving.md "Tensor parallelism"), so every rank then takes the
// same decisions and the forward's collectives line up. Waiting ranks sleep between polls.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "parallel/world.h"
#include "serve/engine.h"
#include "server/version.h"

namespace tessera::server {

// The loaded versions by id; the engines step in this order on every rank.
using Versions = std::map<std::string, std::shared_ptr<Version>>;

struct VersionLoad {
  std::string id;
  serve::ModelRef ref;
};
// Loads a version on every rank at once (collective); throws tessera::Error.
using VersionLoader = std::function<std::shared_ptr<Version>(const VersionLoad&)>;

struct StepChanges {
  std::vector<std::pair<std::string, int64_t>> cancels;      // (version, engine id), dropped first
  std::vector<std::string> unloads;                          // versions, then unloaded
  std::optional<VersionLoad> load;                           // then a version loaded on every rank
  std::vector<std::pair<std::string, serve::Request>> adds;  // (version, request), then added in order
  bool stop = false;                                         // the server is done: leave the loop
  bool empty() const { return cancels.empty() && unloads.empty() && !load && adds.empty() && !stop; }
};

std::string encode(const StepChanges& c);
StepChanges decode(const std::string& bytes);  // throws tessera::Error on a malformed blob

struct Applied {
  std::vector<std::variant<int64_t, std::string>> adds;  // per add, its engine id or why it was refused
  std::string load_error;                                // the load failed: why
};
// Applies the changes to the versions (loads through `load`); the same on every rank, called by
// every rank of `world` (a load's outcome is agreed over it: kept everywhere or nowhere).
Applied apply(const parallel::World& world, Versions& versions, const StepChanges& c, const VersionLoader& load);
// Steps every version's engine that has work, in id order; the outputs by version.
std::vector<std::pair<std::string, std::vector<serve::RequestOutput>>> step_all(Versions& versions);

// Ranks other than 0: receive, apply and step until rank 0 says stop. A version without an
// engine (a rank that does not serve: another data-parallel replica) only follows the broadcasts.
void follow(const parallel::World& world, Versions versions, const VersionLoader& load);
// Rank 0's half of one exchange (a world of one: nothing to send).
void lead(const parallel::World& world, const StepChanges& c);

}  // namespace tessera::server
