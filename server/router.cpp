#include "server/router.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "server/api_error.h"

namespace tessera::server {

int64_t route_bucket(const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return static_cast<int64_t>(h % 10000);
}

void Router::set_primary(std::shared_ptr<Version> v) {
  std::lock_guard lock(mutex_);
  primary_ = std::move(v);
}

std::shared_ptr<Version> Router::pick(const std::string& key, const std::string& pinned) const {
  std::lock_guard lock(mutex_);
  if (!pinned.empty()) {
    if (primary_ && primary_->id == pinned) return primary_;
    return candidate_ && candidate_->id == pinned ? candidate_ : nullptr;
  }
  if (!candidate_ || percent_ <= 0) return primary_;
  int64_t bucket = 0;
  if (key.empty()) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    bucket = static_cast<int64_t>(random() % 10000);
  } else {
    bucket = route_bucket(key);
  }
  return static_cast<double>(bucket) < percent_ * 100 ? candidate_ : primary_;
}

void Router::add_candidate(std::shared_ptr<Version> v) {
  std::lock_guard lock(mutex_);
  candidate_ = std::move(v);
  percent_ = 0;
}

void Router::check_candidate(const std::string& id) const {
  if (candidate_ && candidate_->id == id) return;
  if (primary_ && primary_->id == id) {
    throw ApiError(409, fmt::format("version '{}' is the primary; this acts on the version loaded beside it", id),
                   "invalid_request_error", "version", "conflict");
  }
  throw ApiError(404, fmt::format("no version '{}' is loaded beside the primary", id), "invalid_request_error",
                 "version", "version_not_found");
}

void Router::set_canary(const std::string& id, double percent) {
  std::lock_guard lock(mutex_);
  check_candidate(id);
  percent_ = percent;
}

std::shared_ptr<Version> Router::promote(const std::string& id) {
  std::lock_guard lock(mutex_);
  check_candidate(id);
  auto old = std::move(primary_);
  primary_ = std::move(candidate_);
  candidate_.reset();
  percent_ = 0;
  return old;
}

std::shared_ptr<Version> Router::rollback(const std::string& id) {
  std::lock_guard lock(mutex_);
  check_candidate(id);
  auto old = std::move(candidate_);
  candidate_.reset();
  percent_ = 0;
  return old;
}

std::vector<std::shared_ptr<Version>> Router::loaded() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Version>> out;
  for (const auto& v : {primary_, candidate_}) {
    if (v) out.push_back(v);
  }
  return out;
}

std::string Router::candidate_id() const {
  std::lock_guard lock(mutex_);
  return candidate_ ? candidate_->id : "";
}

int64_t Router::max_context() const {
  std::lock_guard lock(mutex_);
  int64_t n = primary_ ? primary_->context : 0;
  return candidate_ ? std::max(n, candidate_->context) : n;
}

nlohmann::json Router::list() const {
  std::lock_guard lock(mutex_);
  nlohmann::json versions = nlohmann::json::array();
  auto entry = [&](const Version& v, const char* role, double share) {
    versions.push_back({{"version", v.id}, {"ref", v.ref}, {"tags", v.tags}, {"role", role},
                        {"traffic_percent", share}, {"loaded_at", v.loaded_at}});
  };
  if (primary_) entry(*primary_, "primary", candidate_ ? 100 - percent_ : 100);
  if (candidate_) entry(*candidate_, percent_ > 0 ? "canary" : "staged", percent_);
  return {{"primary", primary_ ? nlohmann::json(primary_->id) : nlohmann::json(nullptr)}, {"versions", versions}};
}

}  // namespace tessera::server
