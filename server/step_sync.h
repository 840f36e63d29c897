#pragma once
// Tensor-parallel serving: rank 0 takes HTTP requests and drives the engine; before every step it
// broadcasts the step's changes (new requests, cancellations, stop) to the other ranks, which
// apply them to their own engines in the same order and step with it. The engine is
// deterministic (docs/serving.md "Tensor parallelism"), so every rank then takes the same
// decisions and the forward's collectives line up. Waiting ranks sleep between polls.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "parallel/world.h"
#include "serve/engine.h"

namespace tessera::server {

struct StepChanges {
  std::vector<int64_t> cancels;       // engine ids, dropped first
  std::vector<serve::Request> adds;   // then added in order
  bool stop = false;                  // the server is done: leave the loop
  bool empty() const { return cancels.empty() && adds.empty() && !stop; }
};

std::string encode(const StepChanges& c);
StepChanges decode(const std::string& bytes);  // throws tessera::Error on a malformed blob

// Applies the changes to an engine; per add, its engine id or why the engine refused it.
std::vector<std::variant<int64_t, std::string>> apply(serve::Engine& engine, const StepChanges& c);

// Ranks other than 0: receive, apply and step until rank 0 says stop. engine null: a rank that
// does not serve (another data-parallel replica) only follows the broadcasts.
void follow(const parallel::World& world, serve::Engine* engine);
// Rank 0's half of one exchange (a world of one: nothing to send).
void lead(const parallel::World& world, const StepChanges& c);

}  // namespace tessera::server
