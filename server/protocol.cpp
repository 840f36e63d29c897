#include "server/protocol.h"

#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "server/api_error.h"

namespace tessera::server {

namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 32;  // JSON nesting a request may have (messages with parts need 5)
constexpr size_t kMaxStops = 4;

// Deepest nesting of arrays and objects, strings skipped; stops counting past `limit`.
int nesting(const std::string& s, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

int64_t integer(const json& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) throw bad_field(name, fmt::format("'{}' must be an integer, got {}", name, v.type_name()));
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw bad_field(name, fmt::format("'{}' is too large: {}", name, v.dump()));
  }
  const auto x = v.get<int64_t>();
  if (x < lo || x > hi) throw bad_field(name, fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, x));
  return x;
}

double number(const json& v, const char* name, double lo, double hi) {
  if (!v.is_number()) throw bad_field(name, fmt::format("'{}' must be a number, got {}", name, v.type_name()));
  const auto x = v.get<double>();
  if (!(x >= lo && x <= hi)) throw bad_field(name, fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, v.dump()));
  return x;
}

bool boolean(const json& v, const char* name) {
  if (!v.is_boolean()) throw bad_field(name, fmt::format("'{}' must be a boolean, got {}", name, v.type_name()));
  return v.get<bool>();
}

std::string string(const json& v, const char* name) {
  if (!v.is_string()) throw bad_field(name, fmt::format("'{}' must be a string, got {}", name, v.type_name()));
  return v.get<std::string>();
}

std::vector<std::string> stops(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > kMaxStops) throw bad_field("stop", fmt::format("'stop' has {} strings, at most {}", v.size(), kMaxStops));
    for (const json& s : v) out.push_back(string(s, "stop"));
  } else {
    throw bad_field("stop", fmt::format("'stop' must be a string or a list of strings, got {}", v.type_name()));
  }
  for (const auto& s : out) {
    if (s.empty()) throw bad_field("stop", "'stop' strings must not be empty");
  }
  return out;
}

std::vector<int32_t> token_ids(const json& v) {
  std::vector<int32_t> ids;
  for (const json& t : v) ids.push_back(static_cast<int32_t>(integer(t, "prompt", 0, std::numeric_limits<int32_t>::max())));
  return ids;
}

// prompt: a string, a list of one string, token ids, or a list of one list of token ids.
void read_prompt(const json& v, ApiRequest& r) {
  if (v.is_array() && v.size() > 1 && (v[0].is_string() || v[0].is_array())) {
    throw bad_field("prompt", "several prompts in one request are not supported: send one request per prompt");
  }
  const json* p = &v;
  if (v.is_array() && v.size() == 1 && (v[0].is_string() || v[0].is_array())) p = &v[0];
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
  } else if (p->is_array() && !p->empty()) {
    r.prompt_ids = token_ids(*p);
  } else {
    throw bad_field("prompt", "'prompt' must be a non-empty string or a list of token ids");
  }
}

std::string content_text(const json& content, size_t i) {
  if (content.is_string()) return content.get<std::string>();
  const std::string where = fmt::format("messages[{}].content", i);
  if (!content.is_array()) throw bad_field(where, where + " must be a string or a list of text parts");
  std::string text;
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") || !part["text"].is_string()) {
      throw bad_field(where, where + ": only parts {\"type\": \"text\", \"text\": ...} are supported");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

}  // namespace

std::string chat_prompt(const json& messages) {
  if (!messages.is_array() || messages.empty()) throw bad_field("messages", "'messages' must be a non-empty list");
  static const std::map<std::string, std::string> roles = {
      {"system", "System"}, {"developer", "System"}, {"user", "User"}, {"assistant", "Assistant"}};
  std::string prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const std::string where = fmt::format("messages[{}]", i);
    if (!m.is_object()) throw bad_field(where, where + " must be an object");
    for (const auto& [key, _] : m.items()) {
      if (key != "role" && key != "content" && key != "name") {
        throw bad_field(where + "." + key, fmt::format("{}.{} is not supported", where, key));
      }
    }
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string() || !roles.count(role->get<std::string>())) {
      throw bad_field(where + ".role", where + ".role must be one of system, developer, user, assistant");
    }
    const auto content = m.find("content");
    if (content == m.end()) throw bad_field(where + ".content", where + " has no content");
    prompt += roles.at(role->get<std::string>()) + ": " + (content->is_null() ? "" : content_text(*content, i)) + "\n";
  }
  return prompt + "Assistant:";
}

ApiRequest parse_request(const std::string& body, bool chat, const Limits& limits) {
  if (nesting(body, kMaxDepth) > kMaxDepth) {
    throw ApiError(400, fmt::format("the request body nests deeper than {} levels", kMaxDepth));
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ApiError(400, "the request body is not valid JSON (UTF-8)");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  static const std::set<std::string> common = {
      "model", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop", "presence_penalty",
      "frequency_penalty", "seed", "user", "top_k", "min_p", "repetition_penalty", "ignore_eos"};
  static const std::set<std::string> completions = {"prompt", "logprobs", "echo"};
  static const std::set<std::string> chats = {"messages", "logprobs", "top_logprobs", "max_completion_tokens"};
  const auto& own = chat ? chats : completions;
  for (const auto& [key, _] : j.items()) {
    if (!common.count(key) && !own.count(key)) {
      throw bad_field(key, fmt::format("Unrecognized request argument supplied: {}", key));
    }
  }
  ApiRequest r;
  r.chat = chat;
  r.params.max_tokens = 0;
  if (const json* v = field(j, "model")) r.model = string(*v, "model");
  if (chat) {
    const json* m = field(j, "messages");
    if (!m) throw bad_field("messages", "'messages' is required");
    r.prompt = chat_prompt(*m);
    r.params.stop.push_back("\nUser:");
  } else {
    const json* p = field(j, "prompt");
    if (!p) throw bad_field("prompt", "'prompt' is required");
    read_prompt(*p, r);
  }
  const int64_t context = std::max<int64_t>(limits.context, 1);
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (const json* v = field(j, name)) {
      r.params.max_tokens = integer(*v, name, 1, context);
      r.max_tokens_given = true;
    }
  }
  if (!chat && !r.max_tokens_given) r.params.max_tokens = 16;  // OpenAI's default for completions
  serve::SamplingParams& p = r.params;
  if (const json* v = field(j, "temperature")) p.temperature = number(*v, "temperature", 0, 2);
  if (const json* v = field(j, "top_p")) p.top_p = number(*v, "top_p", 0, 1);
  if (p.top_p == 0) throw bad_field("top_p", "'top_p' must be above 0");
  if (const json* v = field(j, "presence_penalty")) p.presence_penalty = number(*v, "presence_penalty", -2, 2);
  if (const json* v = field(j, "frequency_penalty")) p.frequency_penalty = number(*v, "frequency_penalty", -2, 2);
  if (const json* v = field(j, "top_k")) p.top_k = std::max<int64_t>(0, integer(*v, "top_k", -1, 1 << 30));
  if (const json* v = field(j, "min_p")) p.min_p = number(*v, "min_p", 0, 1);
  if (const json* v = field(j, "repetition_penalty")) p.repetition_penalty = number(*v, "repetition_penalty", 1e-6, 1e6);
  if (const json* v = field(j, "ignore_eos")) p.ignore_eos = boolean(*v, "ignore_eos");
  if (const json* v = field(j, "seed")) {
    if (!v->is_number_integer()) throw bad_field("seed", fmt::format("'seed' must be an integer, got {}", v->type_name()));
    p.seed = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
    r.seed_given = true;
  }
  if (const json* v = field(j, "stop")) {
    for (auto& s : stops(*v)) p.stop.push_back(std::move(s));
  }
  if (const json* v = field(j, "n")) r.n = integer(*v, "n", 1, limits.max_n);
  if (const json* v = field(j, "stream")) r.stream = boolean(*v, "stream");
  if (const json* v = field(j, "stream_options")) {
    if (!r.stream) throw bad_field("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (!v->is_object()) throw bad_field("stream_options", "'stream_options' must be an object");
    for (const auto& [key, value] : v->items()) {
      if (key != "include_usage") throw bad_field("stream_options." + key, "Unrecognized stream option: " + key);
      r.include_usage = boolean(value, "stream_options.include_usage");
    }
  }
  if (const json* v = field(j, "user")) r.user = string(*v, "user");
  if (chat) {
    const bool lp = field(j, "logprobs") && boolean(j["logprobs"], "logprobs");
    if (const json* v = field(j, "top_logprobs")) {
      if (!lp) throw bad_field("top_logprobs", "'top_logprobs' needs 'logprobs': true");
      p.logprobs = integer(*v, "top_logprobs", 0, limits.max_top_logprobs);
    } else if (lp) {
      p.logprobs = 0;
    }
  } else {
    if (const json* v = field(j, "logprobs")) p.logprobs = integer(*v, "logprobs", 0, limits.max_top_logprobs);
    if (const json* v = field(j, "echo")) r.echo = boolean(*v, "echo");
    p.prompt_logprobs = r.echo && p.logprobs >= 0;
  }
  return r;
}

}  // namespace tessera::server
