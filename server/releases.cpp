#include "server/releases.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "checkpoint/reference.h"
#include "core/error.h"
#include "core/log.h"
#include "server/api_error.h"

namespace tessera::server {

namespace {

using json = nlohmann::json;

// The body's fields, checked: an object with only `allowed` keys.
json parse_body(const std::string& body, std::initializer_list<const char*> allowed) {
  json j;
  try {
    j = body.empty() ? json::object() : json::parse(body);
  } catch (const json::exception&) {
    throw bad_field("", "the body is not valid JSON");
  }
  if (!j.is_object()) throw bad_field("", "the body must be a JSON object");
  for (const auto& [k, _] : j.items()) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }) == allowed.end()) {
      throw bad_field(k, fmt::format("Unrecognized request argument supplied: {}", k));
    }
  }
  return j;
}

std::string string_field(const json& j, const char* name) {
  if (!j.contains(name)) return "";
  if (!j[name].is_string() || j[name].get<std::string>().empty()) throw bad_field(name, fmt::format("{} must be a non-empty string", name));
  return j[name].get<std::string>();
}

double percent_field(const json& j) {
  const json& p = j.at("percent");
  if (!p.is_number() || p.get<double>() < 0 || p.get<double>() > 100) throw bad_field("percent", "percent must be a number in [0, 100]");
  return p.get<double>();
}

ApiError not_found(const std::string& param, const std::string& message) {
  return ApiError(404, message, "invalid_request_error", param, "model_not_found");
}

}  // namespace

Releases::Releases(const parallel::World& world, EngineLoop& loop, Router& router, ReleaseOptions options)
    : world_(world), loop_(loop), router_(router), options_(std::move(options)) {}

void Releases::check_audit_log() const {
  std::ofstream out(options_.audit_log, std::ios::app);
  TESSERA_CHECK(out.good(), "cannot append to the audit log '{}' (--audit-log)", options_.audit_log);
}

void Releases::first(std::shared_ptr<Version> v) {
  std::lock_guard lock(mutex_);
  used_.insert(v->id);
  ++next_;
  router_.set_primary(std::move(v));
}

std::string Releases::version_of(const json& body) const {
  std::string id = string_field(body, "version");
  if (id.empty()) id = router_.candidate_id();
  if (id.empty()) throw ApiError(409, "no version is loaded beside the primary", "invalid_request_error", "version", "conflict");
  return id;
}

void Releases::load(const json& body) {
  if (!cannot_load_.empty()) throw bad_field("", cannot_load_);
  if (!router_.candidate_id().empty()) {
    throw ApiError(409, fmt::format("version '{}' is loaded beside the primary: promote it or roll it back first",
                                    router_.candidate_id()), "invalid_request_error", "", "conflict");
  }
  VersionLoad l;
  l.ref.ckpt = string_field(body, "ref");
  l.ref.model = string_field(body, "model");
  l.ref.tokenizer = string_field(body, "tokenizer");
  if (l.ref.tokenizer.empty()) l.ref.tokenizer = options_.tokenizer;
  if (l.ref.ckpt.empty() == l.ref.model.empty()) throw bad_field("ref", "give exactly one of ref (a checkpoint: RUN_DIR, RUN_DIR:TAG, FILE.h5) and model (FILE.gguf, HF_DIR)");
  l.id = string_field(body, "version");
  if (l.id.empty()) l.id = fmt::format("v{}", next_);
  if (l.id.size() > 64 || l.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos) {
    throw bad_field("version", "version: 1 to 64 letters, digits, '.', '_' or '-'");
  }
  if (used_.count(l.id)) throw ApiError(409, fmt::format("version '{}' was loaded before: name another", l.id), "invalid_request_error", "version", "conflict");
  // What the reference names must exist (404); a damaged or unservable model is a 400.
  std::error_code ec;
  if (!l.ref.ckpt.empty()) {
    try {
      checkpoint::resolve(l.ref.ckpt);
    } catch (const std::exception& e) {  // tessera::Error, or a path the file system refuses
      throw not_found("ref", e.what());
    }
  } else if (!std::filesystem::exists(l.ref.model, ec)) {
    throw not_found("model", fmt::format("no model file or folder at '{}'", l.ref.model));
  }
  if (!l.ref.tokenizer.empty() && !std::filesystem::is_regular_file(l.ref.tokenizer, ec)) {
    throw not_found("tokenizer", fmt::format("no tokenizer file at '{}'", l.ref.tokenizer));
  }
  std::shared_ptr<Version> v;
  try {
    // A process without MPI loads here while the engine keeps stepping; MPI ranks load
    // together between two steps.
    std::shared_ptr<Version> prebuilt;
    if (!world_.uses_mpi()) prebuilt = load_version(world_, l.id, l.ref, options_.engine);
    v = loop_.add_version(std::move(prebuilt), l);
  } catch (const std::exception& e) {
    throw bad_field(l.ref.ckpt.empty() ? "model" : "ref", e.what());
  }
  used_.insert(l.id);
  ++next_;
  router_.add_candidate(std::move(v));
  if (body.contains("percent")) router_.set_canary(l.id, percent_field(body));
}

json Releases::change(const std::string& action, const std::string& body, const std::string& key) {
  std::lock_guard lock(mutex_);
  json record{{"time", utc_now()}, {"key", key}, {"action", action}, {"before", router_.list()}};
  try {
    if (action == "load") {
      const json j = parse_body(body, {"ref", "model", "tokenizer", "version", "percent"});
      record["request"] = j;
      if (j.contains("percent")) percent_field(j);
      load(j);
    } else if (action == "canary") {
      const json j = parse_body(body, {"version", "percent"});
      record["request"] = j;
      if (!j.contains("percent")) throw bad_field("percent", "percent is required");
      router_.set_canary(version_of(j), percent_field(j));
    } else if (action == "promote" || action == "rollback") {
      const json j = parse_body(body, {"version"});
      record["request"] = j;
      const std::string id = version_of(j);
      const auto leaving = action == "promote" ? router_.promote(id) : router_.rollback(id);
      loop_.retire(leaving->id);
    } else {
      throw ApiError(404, "no admin action '" + action + "'", "invalid_request_error", "", "not_found");
    }
  } catch (const ApiError& e) {
    record["error"] = e.what();
    record["after"] = record["before"];
    audit(record);
    throw;
  }
  record["after"] = router_.list();
  audit(record);
  log::info("serve: admin {}: {}", action, record["after"].dump());
  return record["after"];
}

void Releases::audit(const json& record) {
  std::ofstream out(options_.audit_log, std::ios::app);
  out << record.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
  if (!out) log::error("serve: cannot append to the audit log '{}'", options_.audit_log);
}

}  // namespace tessera::server
