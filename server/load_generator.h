#pragma once
// `tessera bench serve`: an OpenAI-compatible load generator. For each concurrency C, C client
// threads send N streamed /v1/completions requests in all (prompts of P random token ids, drawn
// anew for each concurrency; G tokens generated with end-of-text ignored, greedy) and time them:
// time to first token, time per output token after it, requests and output tokens per second.
// Drives any OpenAI-compatible server (tessera serve, llama-server, vLLM) by URL and model name.
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::server {

struct LoadOptions {
  std::string url = "http://127.0.0.1:8080";  // scheme://host:port; requests go to /v1/completions
  std::string model;                           // empty: the first of GET /v1/models
  std::string api_key;
  int64_t prompt_len = 128, gen_len = 32, requests = 64;
  int64_t vocab = 256;                         // prompt ids are drawn from [0, vocab)
  uint64_t seed = 1;
};

struct LoadResult {
  int64_t concurrency = 0, requests = 0, failed = 0;
  double requests_s = 0, output_tok_s = 0;
  double ttft_p50_ms = 0, ttft_p99_ms = 0, tpot_p50_ms = 0, tpot_p99_ms = 0;
  // concurrency=C requests_s=N output_tok_s=N ttft_p50_ms=N ttft_p99_ms=N tpot_p50_ms=N tpot_p99_ms=N
  std::string line() const;
};

// The model's name as the server lists it first (GET /v1/models); throws tessera::Error.
std::string first_model(const LoadOptions& o);
// Runs o.requests requests at this concurrency; throws tessera::Error when the server is unreachable
// or a request fails.
LoadResult run_load(const LoadOptions& o, int64_t concurrency);

}  // namespace tessera::server
