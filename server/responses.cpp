#include "server/responses.h"

#include <atomic>
#include <ctime>

#include <fmt/format.h>

namespace tessera::server {

namespace {
using json = nlohmann::json;
std::atomic<int64_t> g_next_id{0};

std::string sse(const std::string& data) { return "data: " + data + "\n\n"; }
}  // namespace

ResponseBuilder::ResponseBuilder(const ApiRequest& request, const datasets::Tokenizer& tokenizer, std::string model,
                                 std::string version, std::vector<int32_t> prompt_ids)
    : request_(request),
      tokenizer_(tokenizer),
      model_(std::move(model)),
      version_(std::move(version)),
      id_(fmt::format("{}-{}", request.chat ? "chatcmpl" : "cmpl", g_next_id++)),
      created_(static_cast<int64_t>(std::time(nullptr))),
      prompt_ids_(std::move(prompt_ids)),
      choices_(static_cast<size_t>(request.n)) {
  if (request.echo) {
    if (request.prompt_ids.empty()) {
      echo_text_ = request.prompt;
    } else {
      std::vector<datasets::TokenId> ids(prompt_ids_.begin(), prompt_ids_.end());
      echo_text_ = tokenizer_.decode(ids);
    }
  }
}

std::string ResponseBuilder::dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string ResponseBuilder::token_text(int32_t id) const {
  return std::string(tokenizer_.token_bytes(static_cast<datasets::TokenId>(id)));
}

json ResponseBuilder::envelope() const {
  return {{"id", id_},
          {"object", request_.chat ? (request_.stream ? "chat.completion.chunk" : "chat.completion")
                                   : "text_completion"},
          {"created", created_},
          {"model", model_},
          {"system_fingerprint", version_}};
}

json ResponseBuilder::logprobs_json(const std::vector<serve::SampledToken>& lps,
                                    const std::vector<serve::TokenLogprob>* prompt, bool with_prompt_head) const {
  if (request_.chat) {
    json content = json::array();
    auto bytes = [](const std::string& s) {
      json b = json::array();
      for (unsigned char c : s) b.push_back(static_cast<int>(c));
      return b;
    };
    for (const auto& t : lps) {
      json top = json::array();
      for (const auto& a : t.top) top.push_back({{"token", token_text(a.id)}, {"logprob", a.logprob}, {"bytes", bytes(token_text(a.id))}});
      content.push_back({{"token", token_text(t.id)}, {"logprob", t.logprob}, {"bytes", bytes(token_text(t.id))}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
  int64_t offset = 0;
  auto put = [&](const std::string& tok, json value, json top) {
    tokens.push_back(tok);
    values.push_back(std::move(value));
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += static_cast<int64_t>(tok.size());
  };
  if (with_prompt_head && !prompt_ids_.empty()) put(token_text(prompt_ids_[0]), nullptr, nullptr);
  if (prompt) {
    for (const auto& t : *prompt) put(token_text(t.id), t.logprob, json{{token_text(t.id), t.logprob}});
  }
  for (const auto& t : lps) {
    json top = json::object();
    for (const auto& a : t.top) top[token_text(a.id)] = a.logprob;
    put(token_text(t.id), t.logprob, top);
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

std::string ResponseBuilder::open_stream() {
  if (!request_.chat) return {};
  std::string out;
  for (int i = 0; i < request_.n; ++i) {
    json chunk = envelope();
    chunk["choices"] = json::array({{{"index", i}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                     {"logprobs", nullptr}, {"finish_reason", nullptr}}});
    out += sse(dump(chunk));
  }
  return out;
}

std::string ResponseBuilder::stream_event(const Event& e) {
  Choice& c = choices_[static_cast<size_t>(e.choice)];
  std::string text = e.out.text;
  const bool first_echo = request_.echo && !c.echoed;
  if (first_echo) {
    text = echo_text_ + text;
    c.echoed = true;
  }
  c.tokens += static_cast<int64_t>(e.out.tokens.size());
  const bool finished = e.out.finish != serve::FinishReason::none;
  const bool lp = request_.params.logprobs >= 0 && (!e.out.logprobs.empty() || !e.out.prompt_logprobs.empty());
  if (text.empty() && !finished && !lp) return {};
  json choice = {{"index", e.choice}, {"logprobs", nullptr},
                 {"finish_reason", finished ? json(serve::finish_reason_name(e.out.finish)) : json(nullptr)}};
  if (lp) {
    choice["logprobs"] = logprobs_json(e.out.logprobs, e.out.prompt_logprobs.empty() ? nullptr : &e.out.prompt_logprobs,
                                       !e.out.prompt_logprobs.empty());
  }
  if (request_.chat) {
    choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  } else {
    choice["text"] = text;
  }
  json chunk = envelope();
  chunk["choices"] = json::array({choice});
  return sse(dump(chunk));
}

std::string ResponseBuilder::close_stream() {
  std::string out;
  if (request_.include_usage) {
    int64_t completion = 0;
    for (const auto& c : choices_) completion += c.tokens;
    const auto prompt = static_cast<int64_t>(prompt_ids_.size());
    json chunk = envelope();
    chunk["choices"] = json::array();
    chunk["usage"] = {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
    out += sse(dump(chunk));
  }
  return out + sse("[DONE]");
}

std::string ResponseBuilder::stream_error(const json& error_body) { return sse(dump(error_body)) + sse("[DONE]"); }

void ResponseBuilder::add(const Event& e) {
  Choice& c = choices_[static_cast<size_t>(e.choice)];
  c.text += e.out.text;
  c.tokens += static_cast<int64_t>(e.out.tokens.size());
  c.logprobs.insert(c.logprobs.end(), e.out.logprobs.begin(), e.out.logprobs.end());
  if (!e.out.prompt_logprobs.empty()) c.prompt_logprobs = e.out.prompt_logprobs;
  if (e.out.finish != serve::FinishReason::none) c.finish = serve::finish_reason_name(e.out.finish);
}

json ResponseBuilder::body() const {
  json out = envelope();
  json choices = json::array();
  int64_t completion = 0;
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    completion += c.tokens;
    json choice = {{"index", i}, {"finish_reason", c.finish}, {"logprobs", nullptr}};
    if (request_.params.logprobs >= 0) {
      choice["logprobs"] = logprobs_json(c.logprobs, request_.echo ? &c.prompt_logprobs : nullptr, request_.echo);
    }
    if (request_.chat) {
      choice["message"] = {{"role", "assistant"}, {"content", c.text}};
    } else {
      choice["text"] = (request_.echo ? echo_text_ : std::string()) + c.text;
    }
    choices.push_back(choice);
  }
  const auto prompt = static_cast<int64_t>(prompt_ids_.size());
  out["choices"] = choices;
  out["usage"] = {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  return out;
}

}  // namespace tessera::server
