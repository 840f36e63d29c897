#pragma once
// Request bodies of POST /v1/completions and /v1/chat/completions -> engine requests. Fields and
// their checks follow OpenAI's API; unknown fields are refused (as OpenAI does), as are fields it
// knows that Tessera does not serve (best_of, logit_bias, suffix, tools...), naming the field.
// Engine fields beside OpenAI's: top_k, min_p, repetition_penalty, ignore_eos.
//
// The chat template (docs/serving.md): each message becomes "Role: content\n" (System, User,
// Assistant; content a string or a list of text parts), then "Assistant:" opens the reply; the
// reply stops at "\nUser:" (added to the request's stop strings).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/sampling.h"

namespace tessera::server {

struct Limits {
  int64_t max_n = 8;             // choices per request
  int64_t max_top_logprobs = 20;
  int64_t context = 0;           // the model's context: prompt + max_tokens
};

struct ApiRequest {
  bool chat = false;
  std::string model;              // empty: the served one
  std::string prompt;             // text, after the chat template
  std::vector<int32_t> prompt_ids;  // a prompt given as token ids (completions), else empty
  serve::SamplingParams params;   // max_tokens may be 0: "until the context is full" (clamped later)
  bool max_tokens_given = false;
  bool seed_given = false;
  int64_t n = 1;
  bool stream = false, include_usage = false, echo = false;
  std::string user;
};

// Throws ApiError (400) naming the first bad field. body: the raw request body.
ApiRequest parse_request(const std::string& body, bool chat, const Limits& limits);
// The chat template applied to an OpenAI messages array; throws ApiError for bad messages.
std::string chat_prompt(const nlohmann::json& messages);

}  // namespace tessera::server
