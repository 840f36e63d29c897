#pragma once
// Multiple-choice task files: JSON Lines, one item per line,
//   {"context": "The sky is", "choices": [" blue", " green"], "label": 0}
// context: a string (may be empty); choices: a non-empty array of non-empty strings; label: the
// index of the right choice. Blank lines are skipped. Local (no MPI).
#include <string>
#include <vector>

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

// The items of JSONL text; errors name `source` and the line ("tasks.jsonl:3: ...").
std::vector<McItem> parse_items(const std::string& text, const std::string& source);
// A task file; an error names the file when it cannot be read or holds no item.
McTask load_task(const std::string& path);
// The task files `file_or_dir` names: the file itself, or a directory's *.jsonl files sorted by
// name. A missing path, or a directory without task files, is an error.
std::vector<std::string> task_files(const std::string& file_or_dir);
// Items as JSONL text that parse_items reads back.
std::string to_jsonl(const std::vector<McItem>& items);

}  // namespace tessera::eval
