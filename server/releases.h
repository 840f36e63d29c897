#pragma once
// The release workflow behind the admin routes: load a version beside the primary while serving
// (staged, or a canary at once), set the canary's share of the traffic, promote it (it becomes
// the primary; the old primary leaves once its requests end) or roll it back (it leaves once its
// requests end). No request fails or is dropped: a leaving version finishes what it holds.
// Every change, and every refused one, is appended to the audit log as one JSON line:
//   {"time", "key" (sha256:... of the admin key, never the key), "action", "request",
//    "before", "after", "error" (a refused change)}.
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "parallel/world.h"
#include "serve/engine.h"
#include "server/engine_loop.h"
#include "server/router.h"

namespace tessera::server {

struct ReleaseOptions {
  std::string audit_log;          // the audit log's path
  serve::EngineOptions engine;    // of every version loaded
  std::string tokenizer;          // --tokenizer: the default of a load's own
};

class Releases {
 public:
  Releases(const parallel::World& world, EngineLoop& loop, Router& router, ReleaseOptions options);
  void check_audit_log() const;  // throws tessera::Error when it can not be appended to
  void first(std::shared_ptr<Version> v);  // the version loaded at start (v1), not audited
  void refuse_loads(std::string why) { cannot_load_ = std::move(why); }  // loads answer 400

  // POST /admin/versions/{load,canary,promote,rollback}: the body (JSON text), the admin key's
  // fingerprint; returns the versions after the change. Throws ApiError (400 bad body or
  // reference, 404 nothing at the reference or no such version, 409 not allowed now).
  nlohmann::json change(const std::string& action, const std::string& body, const std::string& key);
  nlohmann::json list() const { return router_.list(); }

 private:
  void load(const nlohmann::json& body);
  std::string version_of(const nlohmann::json& body) const;  // "version", default the candidate
  void audit(const nlohmann::json& record);

  const parallel::World& world_;
  EngineLoop& loop_;
  Router& router_;
  ReleaseOptions options_;
  std::mutex mutex_;            // one change at a time
  std::string cannot_load_;
  std::set<std::string> used_;  // version ids ever loaded: never reused
  int next_ = 1;
};

}  // namespace tessera::server
