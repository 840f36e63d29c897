#pragma once
// Task files: JSON Lines, one item per line; blank lines are skipped. Two kinds, told apart by the
// first item: one with "prompt" makes the file a generation task (generation_task.h), any other a
// multiple-choice task:
//   {"context": "The sky is", "choices": [" blue", " green"], "label": 0}
// context: a string (may be empty); choices: a non-empty array of non-empty strings; label: the
// index of the right choice. Local (no MPI).
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/generation_task.h"

namespace tessera::eval {

struct McItem {
  std::string context;
  std::vector<std::string> choices;
  size_t label = 0;
};

struct McTask {
  std::string name;  // the file name without .jsonl
  std::string path;  // where it came from ("builtin:cloze" for a made task)
  std::vector<McItem> items;
};

// Calls fn(line, "source:N") for every non-blank line N (from 1) of `text`.
void for_each_line(const std::string& text, const std::string& source,
                   const std::function<void(const std::string& line, const std::string& where)>& fn);
// One line's JSON; an error names `where`.
nlohmann::json parse_json_line(const std::string& line, const std::string& where);

// The items of JSONL text; errors name `source` and the line ("tasks.jsonl:3: ...").
std::vector<McItem> parse_items(const std::string& text, const std::string& source);
// A task file; an error names the file when it cannot be read or holds no item.
McTask load_task(const std::string& path);
// A task file of either kind (see above); an error names the file when it cannot be read or holds
// no item, or the line of a malformed item.
using Task = std::variant<McTask, GenTask>;
Task load_any_task(const std::string& path);
const std::string& task_name(const Task& task);

// The task files `file_or_dir` names: the file itself, or a directory's *.jsonl files sorted by
// name. A missing path, or a directory without task files, is an error.
std::vector<std::string> task_files(const std::string& file_or_dir);
// Items as JSONL text that parse_items reads back.
std::string to_jsonl(const std::vector<McItem>& items);

}  // namespace tessera::eval
