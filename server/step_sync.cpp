#include "server/step_sync.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "parallel/passive_broadcast.h"

namespace tessera::server {

namespace {

using json = nlohmann::json;

json request_json(const serve::Request& r) {
  const serve::SamplingParams& p = r.params;
  return {{"prompt", r.prompt},
          {"max_tokens", p.max_tokens},
          {"temperature", p.temperature},
          {"top_k", p.top_k},
          {"top_p", p.top_p},
          {"min_p", p.min_p},
          {"repetition_penalty", p.repetition_penalty},
          {"presence_penalty", p.presence_penalty},
          {"frequency_penalty", p.frequency_penalty},
          {"seed", p.seed},
          {"stop_tokens", p.stop_tokens},
          {"ignore_eos", p.ignore_eos},
          {"stop", p.stop},
          {"logprobs", p.logprobs},
          {"prompt_logprobs", p.prompt_logprobs}};
}

serve::Request request_from(const json& j) {
  serve::Request r;
  serve::SamplingParams& p = r.params;
  j.at("prompt").get_to(r.prompt);
  j.at("max_tokens").get_to(p.max_tokens);
  j.at("temperature").get_to(p.temperature);
  j.at("top_k").get_to(p.top_k);
  j.at("top_p").get_to(p.top_p);
  j.at("min_p").get_to(p.min_p);
  j.at("repetition_penalty").get_to(p.repetition_penalty);
  j.at("presence_penalty").get_to(p.presence_penalty);
  j.at("frequency_penalty").get_to(p.frequency_penalty);
  j.at("seed").get_to(p.seed);
  j.at("stop_tokens").get_to(p.stop_tokens);
  j.at("ignore_eos").get_to(p.ignore_eos);
  j.at("stop").get_to(p.stop);
  j.at("logprobs").get_to(p.logprobs);
  j.at("prompt_logprobs").get_to(p.prompt_logprobs);
  return r;
}

}  // namespace

std::string encode(const StepChanges& c) {
  if (c.empty()) return {};
  json adds = json::array();
  for (const auto& [version, r] : c.adds) adds.push_back({version, request_json(r)});
  json j{{"cancels", c.cancels}, {"unloads", c.unloads}, {"adds", adds}, {"stop", c.stop}};
  if (c.load) j["load"] = {{"id", c.load->id}, {"ckpt", c.load->ref.ckpt}, {"model", c.load->ref.model},
                           {"tokenizer", c.load->ref.tokenizer}};
  // Stop strings are UTF-8 checked by the HTTP front; replace keeps a blob from ever failing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

StepChanges decode(const std::string& bytes) {
  StepChanges c;
  if (bytes.empty()) return c;
  try {
    const json j = json::parse(bytes);
    j.at("cancels").get_to(c.cancels);
    j.at("unloads").get_to(c.unloads);
    for (const json& a : j.at("adds")) c.adds.emplace_back(a.at(0).get<std::string>(), request_from(a.at(1)));
    if (j.contains("load")) {
      const json& l = j["load"];
      c.load = VersionLoad{l.at("id"), {l.at("ckpt"), l.at("model"), l.at("tokenizer")}};
    }
    j.at("stop").get_to(c.stop);
  } catch (const json::exception& e) {
    TESSERA_FAIL("malformed step changes from rank 0: {}", e.what());
  }
  return c;
}

Applied apply(const parallel::World& world, Versions& versions, const StepChanges& c, const VersionLoader& load) {
  for (const auto& [version, id] : c.cancels) {
    const auto it = versions.find(version);
    if (it != versions.end() && it->second->engine) it->second->engine->cancel(id);
  }
  for (const auto& version : c.unloads) versions.erase(version);
  Applied out;
  if (c.load) {
    // Every rank keeps the version, or none does: a version on some ranks only would have its
    // requests stepped by some ranks only.
    std::shared_ptr<Version> loaded;
    try {
      loaded = load(*c.load);
    } catch (const std::exception& e) {
      out.load_error = e.what();
    }
    out.load_error = world.agree(out.load_error);
    if (out.load_error.empty()) versions[c.load->id] = std::move(loaded);
  }
  for (const auto& [version, r] : c.adds) {
    const auto it = versions.find(version);
    if (it == versions.end()) {
      out.adds.emplace_back("version " + version + " is not loaded");
      continue;
    }
    if (!it->second->engine) continue;
    try {
      out.adds.emplace_back(it->second->engine->add(r));
    } catch (const Error& e) {
      out.adds.emplace_back(std::string(e.what()));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<serve::RequestOutput>>> step_all(Versions& versions) {
  std::vector<std::pair<std::string, std::vector<serve::RequestOutput>>> out;
  for (auto& [id, v] : versions) {
    if (v->engine && !v->engine->idle()) out.emplace_back(id, v->engine->step());
  }
  return out;
}

void lead(const parallel::World& world, const StepChanges& c) {
  if (world.size() == 1) return;
  std::string bytes = encode(c);
  parallel::broadcast_passively(world, bytes);
}

void follow(const parallel::World& world, Versions versions, const VersionLoader& load) {
  for (;;) {
    std::string bytes;
    parallel::broadcast_passively(world, bytes);
    const StepChanges c = decode(bytes);
    apply(world, versions, c, load);
    if (c.stop) return;
    step_all(versions);
  }
}

}  // namespace tessera::server
