#pragma once
// OpenAI response bodies from engine events: text_completion / chat.completion objects, and the
// server-sent events of a stream (text_completion / chat.completion.chunk, then [DONE]). Text is
// valid UTF-8 (the engine's detokeniser holds back partial characters); token strings in
// log-probabilities may be partial UTF-8 and are written with U+FFFD in their place.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/tokenizer.h"
#include "server/engine_loop.h"
#include "server/protocol.h"

namespace tessera::server {

class ResponseBuilder {
 public:
  // prompt_ids: the prompt's tokens (for echo and usage); version: the version that answers
  // (every object's system_fingerprint).
  ResponseBuilder(const ApiRequest& request, const datasets::Tokenizer& tokenizer, std::string model,
                  std::string version, std::vector<int32_t> prompt_ids);

  // Streaming: the SSE lines for one event ("" when it carries nothing to send), the opening
  // chunks (chat: the assistant role of every choice) and the closing ones (usage, [DONE]).
  std::string open_stream();
  std::string stream_event(const Event& e);
  std::string close_stream();
  static std::string stream_error(const nlohmann::json& error_body);

  // Whole responses: events accumulated, then the body.
  void add(const Event& e);
  nlohmann::json body() const;

  static std::string dump(const nlohmann::json& j);  // UTF-8 safe (U+FFFD for invalid bytes)

 private:
  struct Choice {
    std::string text;
    std::vector<serve::SampledToken> logprobs;
    std::vector<serve::TokenLogprob> prompt_logprobs;
    std::string finish;
    int64_t tokens = 0;
    bool echoed = false;
  };
  nlohmann::json logprobs_json(const std::vector<serve::SampledToken>& lps,
                               const std::vector<serve::TokenLogprob>* prompt, bool with_prompt_head) const;
  nlohmann::json envelope() const;  // id, object, created, model, system_fingerprint
  std::string token_text(int32_t id) const;

  const ApiRequest& request_;
  const datasets::Tokenizer& tokenizer_;
  std::string model_, version_, id_;
  int64_t created_;
  std::vector<int32_t> prompt_ids_;
  std::string echo_text_;
  std::vector<Choice> choices_;
};

}  // namespace tessera::server
