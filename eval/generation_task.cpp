#include "eval/generation_task.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/task_file.h"

namespace tessera::eval {

namespace {

std::vector<std::string> strings(const nlohmann::json& j, const std::string& where, const char* key) {
  std::vector<std::string> out;
  if (j.is_string()) return {j.get<std::string>()};
  TESSERA_CHECK(j.is_array(), "{}: \"{}\" must be a string or an array of strings", where, key);
  for (const auto& s : j) {
    TESSERA_CHECK(s.is_string(), "{}: every entry of \"{}\" must be a string", where, key);
    out.push_back(s.get<std::string>());
  }
  return out;
}

GenItem parse_gen_item(const std::string& line, const std::string& where) {
  const nlohmann::json j = parse_json_line(line, where);
  TESSERA_CHECK(j.is_object(), "{}: an item must be a JSON object with prompt and reference", where);
  TESSERA_CHECK(j.contains("prompt"), "{}: the item has no \"prompt\"", where);
  TESSERA_CHECK(j["prompt"].is_string(), "{}: \"prompt\" must be a string", where);
  GenItem item;
  item.prompt = j["prompt"].get<std::string>();
  TESSERA_CHECK(j.contains("reference") != j.contains("references"),
                "{}: the item needs \"reference\" (a string) or \"references\" (an array of strings), one of them",
                where);
  if (j.contains("reference")) {
    TESSERA_CHECK(j["reference"].is_string(), "{}: \"reference\" must be a string", where);
    item.references = {j["reference"].get<std::string>()};
  } else {
    TESSERA_CHECK(j["references"].is_array() && !j["references"].empty(),
                  "{}: \"references\" must be a non-empty array of strings", where);
    item.references = strings(j["references"], where, "references");
  }
  if (j.contains("max_tokens")) {
    TESSERA_CHECK(j["max_tokens"].is_number_integer() && j["max_tokens"].get<int64_t>() >= 1,
                  "{}: \"max_tokens\" must be an integer >= 1", where);
    item.max_tokens = j["max_tokens"].get<int64_t>();
  }
  if (j.contains("stop")) item.stop = strings(j["stop"], where, "stop");
  return item;
}

}  // namespace

std::vector<GenItem> parse_gen_items(const std::string& text, const std::string& source) {
  std::vector<GenItem> items;
  for_each_line(text, source, [&](const std::string& line, const std::string& where) {
    items.push_back(parse_gen_item(line, where));
  });
  return items;
}

}  // namespace tessera::eval
