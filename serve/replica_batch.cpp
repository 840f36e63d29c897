#include "serve/replica_batch.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace tessera::serve {

namespace {

using json = nlohmann::json;

// A bad line's number ("line N: what", as run_batch_file reports it).
int64_t error_line(const std::string& error) { return std::stoll(error.substr(error.find(' ') + 1)); }

}  // namespace

BatchReport run_batch_replicas(const parallel::World& world, const parallel::Topology& topo, Engine& engine,
                               const datasets::Tokenizer& tokenizer, const std::string& input_path,
                               const std::string& output_path, const SamplingParams& defaults) {
  // Rank 0 reads (and repairs) the output and tells the others what is done.
  std::string done_json;
  if (world.is_root()) done_json = json(finished_ids(output_path)).dump();
  world.broadcast(done_json);
  const auto done = json::parse(done_json).get<std::set<std::string>>();

  std::map<int64_t, std::string> results;  // input line -> output line
  const BatchReport mine = run_batch_file(
      engine, tokenizer, input_path, [&](int64_t line, const std::string& r) { results[line] = r; }, defaults, done,
      {}, {topo.dp_rank, topo.dp});
  world.idle_barrier();  // replicas that finish first sleep until the last one is done

  // Rank 0 of each tensor-parallel group speaks for its replica (the others ran the same requests).
  json part = json::object();
  if (topo.tp_rank == 0) {
    part = {{"results", std::vector<std::pair<int64_t, std::string>>(results.begin(), results.end())}, {"errors", mine.errors}, {"lines", mine.lines}, {"completed", mine.completed},
            {"skipped", mine.skipped}};
  }
  const std::vector<std::string> parts = world.gather(part.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!world.is_root()) return mine;
  BatchReport all;
  std::map<int64_t, std::string> ordered;
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    const json j = json::parse(parts[rank]);
    if (j.empty()) continue;
    log::info("serve: replica {} (ranks {}-{}) answered {} of its {} lines", rank / static_cast<size_t>(topo.tp), rank,
              rank + static_cast<size_t>(topo.tp) - 1, j["completed"].get<int64_t>(), j["lines"].get<int64_t>());
    for (const auto& [line, r] : j["results"].get<std::vector<std::pair<int64_t, std::string>>>()) ordered[line] = r;
    for (const auto& e : j["errors"]) all.errors.push_back(e.get<std::string>());
    all.lines += j["lines"].get<int64_t>();
    all.completed += j["completed"].get<int64_t>();
    all.skipped += j["skipped"].get<int64_t>();
  }
  std::sort(all.errors.begin(), all.errors.end(),
            [](const std::string& a, const std::string& b) { return error_line(a) < error_line(b); });
  const ResultSink write = file_sink(output_path);
  for (const auto& [line, r] : ordered) write(line, r);
  return all;
}

}  // namespace tessera::serve
