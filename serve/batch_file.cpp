#include "serve/batch_file.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tessera::serve {

namespace {

using json = nlohmann::json;

template <typename T>
void read_field(const json& body, const char* name, T& out) {
  if (!body.contains(name) || body[name].is_null()) return;
  try {
    out = body[name].get<T>();
  } catch (const json::exception&) {
    TESSERA_FAIL("body.{} has the wrong type ({})", name, body[name].type_name());
  }
}

// Requests in the engine: engine id -> custom_id, prompt length and the completion so far.
struct InFlight {
  std::string custom_id;
  int64_t line_no = 0;
  int64_t prompt_tokens = 0;
  Completion completion;
};

}  // namespace

BatchLine parse_batch_line(std::string_view line, const SamplingParams& defaults) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error& e) {
    TESSERA_FAIL("not JSON: {}", e.what());
  }
  TESSERA_CHECK(j.is_object(), "not a JSON object");
  TESSERA_CHECK(j.contains("custom_id") && j["custom_id"].is_string() && !j["custom_id"].get<std::string>().empty(),
                "no custom_id (a non-empty string)");
  TESSERA_CHECK(j.contains("body") && j["body"].is_object(), "no body object");
  const json& body = j["body"];
  TESSERA_CHECK(!body.contains("messages"), "body.messages is not supported (no chat template): use body.prompt");
  TESSERA_CHECK(body.contains("prompt") && body["prompt"].is_string(), "no body.prompt (a string)");
  BatchLine b{j["custom_id"].get<std::string>(), body["prompt"].get<std::string>(), defaults};
  SamplingParams& p = b.params;
  read_field(body, "max_tokens", p.max_tokens);
  read_field(body, "temperature", p.temperature);
  read_field(body, "top_k", p.top_k);
  read_field(body, "top_p", p.top_p);
  read_field(body, "min_p", p.min_p);
  read_field(body, "repetition_penalty", p.repetition_penalty);
  read_field(body, "presence_penalty", p.presence_penalty);
  read_field(body, "frequency_penalty", p.frequency_penalty);
  read_field(body, "seed", p.seed);
  read_field(body, "logprobs", p.logprobs);
  read_field(body, "prompt_logprobs", p.prompt_logprobs);
  if (body.contains("stop") && body["stop"].is_string()) {
    p.stop = {body["stop"].get<std::string>()};
  } else {
    read_field(body, "stop", p.stop);
  }
  p.validate();
  return b;
}

std::string format_batch_result(const std::string& custom_id, const Completion& c, int64_t prompt_tokens,
                                const datasets::Tokenizer& tokenizer) {
  json choice = {{"index", 0}, {"text", c.text}, {"finish_reason", finish_reason_name(c.finish)}, {"logprobs", nullptr}};
  if (!c.logprobs.empty()) {
    json tokens = json::array(), lps = json::array(), tops = json::array();
    for (const SampledToken& t : c.logprobs) {
      tokens.push_back(std::string(tokenizer.token_bytes(static_cast<datasets::TokenId>(t.id))));
      lps.push_back(t.logprob);
      json top = json::object();
      for (const auto& a : t.top) top[std::string(tokenizer.token_bytes(static_cast<datasets::TokenId>(a.id)))] = a.logprob;
      tops.push_back(top);
    }
    choice["logprobs"] = {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
  }
  if (!c.prompt_logprobs.empty()) {  // tokens 1.. of the prompt, each given the ones before it
    json prompt = json::array();
    for (const TokenLogprob& t : c.prompt_logprobs) {
      prompt.push_back({{"token", std::string(tokenizer.token_bytes(static_cast<datasets::TokenId>(t.id)))},
                        {"logprob", t.logprob}});
    }
    choice["prompt_logprobs"] = prompt;
  }
  const auto completion_tokens = static_cast<int64_t>(c.tokens.size());
  const json out = {
      {"custom_id", custom_id},
      {"response",
       {{"body",
         {{"choices", json::array({choice})},
          {"usage",
           {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens}}}}}}},
      {"error", nullptr}};
  // Token bytes may be partial UTF-8: replace rather than throw.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::set<std::string> finished_ids(const std::string& output_path) {
  std::set<std::string> ids;
  if (!std::filesystem::exists(output_path)) return ids;
  std::string all;
  {
    std::ifstream in(output_path, std::ios::binary);
    all.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t complete = all.rfind('\n') == std::string::npos ? 0 : all.rfind('\n') + 1;
  if (complete < all.size()) std::filesystem::resize_file(output_path, complete);  // a cut-short last line
  size_t start = 0;
  while (start < complete) {
    const size_t end = all.find('\n', start);
    const json j = json::parse(all.begin() + static_cast<std::ptrdiff_t>(start),
                               all.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    if (j.is_object() && j.contains("custom_id") && j["custom_id"].is_string()) ids.insert(j["custom_id"].get<std::string>());
    start = end + 1;
  }
  return ids;
}

ResultSink file_sink(const std::string& output_path) {
  if (output_path.empty()) return [](int64_t, const std::string&) {};
  auto out = std::make_shared<std::ofstream>();  // opened at the first result: a failed batch leaves no file
  return [out, output_path](int64_t, const std::string& result) {
    if (!out->is_open()) out->open(output_path, std::ios::app | std::ios::binary);
    TESSERA_CHECK(out->good(), "cannot write the batch output '{}'", output_path);
    *out << result << '\n';
    out->flush();
  };
}

BatchReport run_batch_file(Engine& engine, const datasets::Tokenizer& tokenizer, const std::string& input_path,
                           const ResultSink& sink, const SamplingParams& defaults,
                           const std::set<std::string>& done,
                           const std::function<void(const BatchReport&)>& on_done, BatchShare share) {
  std::ifstream in(input_path);
  TESSERA_CHECK(in.good(), "cannot read the batch input '{}'", input_path);
  std::map<std::string, int64_t> taken;  // custom_id -> the line that queued it
  BatchReport report;
  std::map<int64_t, InFlight> flight;
  std::string line;
  int64_t line_no = 0;
  bool input_done = false;
  const size_t window = 64;  // requests kept in the engine: enough to fill its batches
  while (!input_done || !flight.empty()) {
    while (!input_done && flight.size() < window) {
      if (!std::getline(in, line)) {
        input_done = true;
        break;
      }
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const bool own = share.owns(line_no);
      if (own) ++report.lines;
      try {
        BatchLine b = parse_batch_line(line, defaults);
        if (done.count(b.custom_id)) {
          if (own) ++report.skipped;
          continue;
        }
        TESSERA_CHECK(!taken.count(b.custom_id), "custom_id '{}' repeats line {}", b.custom_id, taken[b.custom_id]);
        taken[b.custom_id] = line_no;
        if (!own) continue;
        std::vector<int32_t> ids;
        for (datasets::TokenId t : tokenizer.encode(b.prompt)) ids.push_back(static_cast<int32_t>(t));
        const auto n = static_cast<int64_t>(ids.size());
        const int64_t id = engine.add({std::move(ids), b.params});
        flight[id] = {b.custom_id, line_no, n, {}};
      } catch (const Error& e) {
        if (own) report.errors.push_back(fmt::format("line {}: {}", line_no, e.what()));
      }
    }
    if (flight.empty()) continue;
    for (RequestOutput& o : engine.step()) {
      auto it = flight.find(o.id);
      if (it == flight.end()) continue;
      Completion& c = it->second.completion;
      c.tokens.insert(c.tokens.end(), o.tokens.begin(), o.tokens.end());
      c.text += o.text;
      c.logprobs.insert(c.logprobs.end(), o.logprobs.begin(), o.logprobs.end());
      if (!o.prompt_logprobs.empty()) c.prompt_logprobs = std::move(o.prompt_logprobs);
      if (o.finish == FinishReason::none) continue;
      c.finish = o.finish;
      sink(it->second.line_no, format_batch_result(it->second.custom_id, c, it->second.prompt_tokens, tokenizer));
      flight.erase(it);
      ++report.completed;
      if (on_done) on_done(report);
    }
  }
  return report;
}

}  // namespace tessera::serve
