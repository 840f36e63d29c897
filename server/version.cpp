#include "server/version.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "checkpoint/reference.h"
#include "checkpoint/tags.h"

namespace tessera::server {

std::shared_ptr<Version> load_version(const parallel::World& world, const std::string& id, const serve::ModelRef& ref,
                                      const serve::EngineOptions& options) {
  auto v = std::make_shared<Version>();
  v->id = id;
  v->ref = ref.ckpt.empty() ? ref.model : ref.ckpt;
  // Nothing here may throw before load_serving_model's agreement: every rank must reach it.
  v->owned = serve::load_serving_model(world, ref);
  if (!ref.ckpt.empty()) v->tags = tags_of(ref.ckpt);
  v->tokenizer = &v->owned->tokenizer;
  v->context = v->owned->model->config().seq_len;
  v->engine = std::make_unique<serve::Engine>(*v->owned->model, *v->tokenizer, options);
  v->loaded_at = utc_now();
  return v;
}

std::vector<std::string> tags_of(const std::string& ckpt_ref) {
  const auto file = checkpoint::resolve(ckpt_ref);
  const auto run = checkpoint::run_dir_of(file);
  std::vector<std::string> tags;
  if (!run) return tags;
  for (const auto& [tag, name] : checkpoint::read_tags(checkpoint::checkpoints_dir(*run))) {
    if (name == file.filename().string()) tags.push_back(tag);
  }
  return tags;
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace tessera::server
