#pragma once
// Which loaded version serves a request: the primary, and at most one candidate beside it (loaded
// while serving) that takes `percent` of the traffic as a canary (0: staged, no traffic). A
// request's route key (its `user` field, else its X-Session-Id header) hashes (FNV-1a, 64 bits) to
// a bucket in [0, 10000); buckets below percent x 100 go to the candidate. The same key therefore
// always meets the same version while the share stays, and a key on the canary stays there
// when the share grows. A request without a key draws a random bucket. Thread-safe.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/version.h"

namespace tessera::server {

// The route key's bucket in [0, 10000).
int64_t route_bucket(const std::string& key);

class Router {
 public:
  void set_primary(std::shared_ptr<Version> v);
  // The version for a request: `pinned` (a version id, from a model name NAME@VERSION) when
  // given, else by the route key's bucket. Null: no such version is loaded.
  std::shared_ptr<Version> pick(const std::string& key, const std::string& pinned = "") const;

  // Admin changes (the caller serialises them); throw ApiError (404 unknown version, 409 when the
  // state does not allow it). Promote and rollback return the version that leaves (to retire).
  void add_candidate(std::shared_ptr<Version> v);
  void set_canary(const std::string& id, double percent);
  std::shared_ptr<Version> promote(const std::string& id);   // the candidate becomes the primary
  std::shared_ptr<Version> rollback(const std::string& id);  // the candidate leaves
  std::vector<std::shared_ptr<Version>> loaded() const;  // the primary first, then the candidate
  std::string candidate_id() const;  // "" when none
  int64_t max_context() const;       // the longest context of the versions loaded

  // {"primary", "versions": [{"version", "ref", "tags", "role", "traffic_percent", "loaded_at"}]}
  nlohmann::json list() const;

 private:
  void check_candidate(const std::string& id) const;  // lock held
  mutable std::mutex mutex_;
  std::shared_ptr<Version> primary_, candidate_;
  double percent_ = 0;
};

}  // namespace tessera::server
