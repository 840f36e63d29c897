#include "eval/task_file.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/documents.h"

namespace fs = std::filesystem;

namespace tessera::eval {

namespace {

McItem parse_item(const std::string& line, const std::string& where) {
  const nlohmann::json j = parse_json_line(line, where);
  TESSERA_CHECK(j.is_object(), "{}: an item must be a JSON object with context, choices and label", where);
  for (const char* key : {"context", "choices", "label"}) {
    TESSERA_CHECK(j.contains(key), "{}: the item has no \"{}\"", where, key);
  }
  McItem item;
  TESSERA_CHECK(j["context"].is_string(), "{}: \"context\" must be a string", where);
  item.context = j["context"].get<std::string>();
  TESSERA_CHECK(j["choices"].is_array() && !j["choices"].empty(), "{}: \"choices\" must be a non-empty array", where);
  for (const auto& choice : j["choices"]) {
    TESSERA_CHECK(choice.is_string() && !choice.get<std::string>().empty(),
                  "{}: every choice must be a non-empty string", where);
    item.choices.push_back(choice.get<std::string>());
  }
  TESSERA_CHECK(j["label"].is_number_integer(), "{}: \"label\" must be an integer", where);
  const auto label = j["label"].get<int64_t>();
  TESSERA_CHECK(label >= 0 && label < static_cast<int64_t>(item.choices.size()),
                "{}: label {} is out of range for {} choices", where, label, item.choices.size());
  item.label = static_cast<size_t>(label);
  return item;
}

}  // namespace

void for_each_line(const std::string& text, const std::string& source,
                   const std::function<void(const std::string& line, const std::string& where)>& fn) {
  size_t start = 0, line_number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    fn(line, source + ":" + std::to_string(line_number));
  }
}

nlohmann::json parse_json_line(const std::string& line, const std::string& where) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: not valid JSON: {}", where, e.what());
  }
}

std::vector<McItem> parse_items(const std::string& text, const std::string& source) {
  std::vector<McItem> items;
  for_each_line(text, source, [&](const std::string& line, const std::string& where) {
    items.push_back(parse_item(line, where));
  });
  return items;
}

McTask load_task(const std::string& path) {
  McTask task{fs::path(path).stem().string(), path, parse_items(datasets::read_file_bytes(path), path)};
  TESSERA_CHECK(!task.items.empty(), "task file {} holds no item", path);
  return task;
}

Task load_any_task(const std::string& path) {
  const std::string text = datasets::read_file_bytes(path);
  bool generation = false, first = true;
  for_each_line(text, path, [&](const std::string& line, const std::string&) {
    if (!first) return;
    first = false;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);  // malformed: the parser says where
    generation = j.is_object() && j.contains("prompt");
  });
  if (!generation) return load_task(path);
  GenTask task{fs::path(path).stem().string(), path, parse_gen_items(text, path)};
  TESSERA_CHECK(!task.items.empty(), "task file {} holds no item", path);
  return task;
}

const std::string& task_name(const Task& task) {
  return std::visit([](const auto& t) -> const std::string& { return t.name; }, task);
}

std::vector<std::string> task_files(const std::string& file_or_dir) {
  TESSERA_CHECK(fs::exists(file_or_dir), "task file or directory '{}' does not exist", file_or_dir);
  if (!fs::is_directory(file_or_dir)) return {file_or_dir};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(file_or_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jsonl") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  TESSERA_CHECK(!files.empty(), "task directory '{}' holds no .jsonl file", file_or_dir);
  return files;
}

std::string to_jsonl(const std::vector<McItem>& items) {
  std::string out;
  for (const McItem& item : items) {
    const nlohmann::ordered_json j = {{"context", item.context}, {"choices", item.choices}, {"label", item.label}};
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace tessera::eval
