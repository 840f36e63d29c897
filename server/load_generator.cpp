#include "server/load_generator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tessera::server {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size())));
  return v[i];
}

httplib::Headers headers(const LoadOptions& o) {
  httplib::Headers h;
  if (!o.api_key.empty()) h.emplace("Authorization", "Bearer " + o.api_key);
  return h;
}

struct Timing {
  double ttft_s = 0, tpot_s = 0, end_s = 0;
  int64_t tokens = 0;
};

// One streamed request; its timings (tokens: the usage reported, else the text chunks seen).
Timing one_request(const LoadOptions& o, const std::string& model, const std::vector<int32_t>& prompt) {
  httplib::Client client(o.url);
  client.set_read_timeout(600);
  const json body = {{"model", model}, {"prompt", prompt}, {"max_tokens", o.gen_len}, {"temperature", 0},
                     {"ignore_eos", true}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.headers = headers(o);
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  const auto start = Clock::now();
  Timing t;
  Clock::time_point first, last;
  int64_t chunks = 0, usage = -1;
  std::string pending;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    pending.append(data, n);
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos; pending.erase(0, end + 2)) {
      const std::string event = pending.substr(0, end);
      if (event.rfind("data: {", 0) != 0) continue;
      const json j = json::parse(event.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) usage = j["usage"].value("completion_tokens", int64_t{-1});
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const auto now = Clock::now();
      if (chunks++ == 0) first = now;
      last = now;
    }
    return true;
  };
  const auto res = client.send(req);
  TESSERA_CHECK(res && res->status == 200, "{}/v1/completions: {}", o.url,
                res ? fmt::format("status {}: {}", res->status, res->body.substr(0, 300)) : httplib::to_string(res.error()));
  TESSERA_CHECK(chunks > 0, "{}/v1/completions streamed no token", o.url);
  t.tokens = usage >= 0 ? usage : chunks;
  t.ttft_s = std::chrono::duration<double>(first - start).count();
  t.end_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (t.tokens > 1) t.tpot_s = std::chrono::duration<double>(last - first).count() / static_cast<double>(t.tokens - 1);
  return t;
}

}  // namespace

std::string LoadResult::line() const {
  return fmt::format("concurrency={} requests_s={:.2f} output_tok_s={:.1f} ttft_p50_ms={:.1f} ttft_p99_ms={:.1f} "
                     "tpot_p50_ms={:.2f} tpot_p99_ms={:.2f}", concurrency, requests_s, output_tok_s, ttft_p50_ms,
                     ttft_p99_ms, tpot_p50_ms, tpot_p99_ms);
}

std::string first_model(const LoadOptions& o) {
  httplib::Client client(o.url);
  const auto res = client.Get("/v1/models", headers(o));
  TESSERA_CHECK(res && res->status == 200, "{}/v1/models: {}", o.url,
                res ? fmt::format("status {}", res->status) : httplib::to_string(res.error()));
  const json j = json::parse(res->body, nullptr, false);
  TESSERA_CHECK(j.is_object() && j.contains("data") && j["data"].is_array() && !j["data"].empty() &&
                j["data"][0].contains("id"), "{}/v1/models lists no model", o.url);
  return j["data"][0]["id"].get<std::string>();
}

LoadResult run_load(const LoadOptions& o, int64_t concurrency) {
  TESSERA_CHECK(concurrency >= 1 && o.requests >= 1 && o.prompt_len >= 1 && o.gen_len >= 1,
                "concurrency, requests, prompt and generation lengths must be >= 1");
  const std::string model = o.model.empty() ? first_model(o) : o.model;
  // Prompts of this concurrency's own: a server's prompt cache (llama-server keeps each slot's last
  // prompt) must not serve one concurrency's run from an earlier one's.
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(concurrency));
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(o.requests));
  for (auto& p : prompts) {
    for (int64_t i = 0; i < o.prompt_len; ++i) p.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(o.vocab)));
  }
  std::vector<Timing> timings(prompts.size());
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::string error;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < concurrency; ++c) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < prompts.size();) {
        try {
          timings[i] = one_request(o, model, prompts[i]);
        } catch (const std::exception& e) {
          std::lock_guard lock(error_mutex);
          if (error.empty()) error = e.what();
          next = prompts.size();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  TESSERA_CHECK(error.empty(), "{}", error);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  LoadResult r;
  r.concurrency = concurrency;
  r.requests = o.requests;
  std::vector<double> ttft, tpot;
  int64_t tokens = 0;
  for (const Timing& t : timings) {
    ttft.push_back(t.ttft_s * 1e3);
    if (t.tokens > 1) tpot.push_back(t.tpot_s * 1e3);
    tokens += t.tokens;
  }
  r.requests_s = static_cast<double>(o.requests) / wall;
  r.output_tok_s = static_cast<double>(tokens) / wall;
  r.ttft_p50_ms = percentile(ttft, 0.5);
  r.ttft_p99_ms = percentile(ttft, 0.99);
  r.tpot_p50_ms = percentile(tpot, 0.5);
  r.tpot_p99_ms = percentile(tpot, 0.99);
  return r;
}

}  // namespace tessera::server
