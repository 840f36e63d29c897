#pragma once
// Generation task files: JSON Lines, one item per line,
//   {"prompt": "Q: 2 + 2 =", "reference": " 4", "max_tokens": 8, "stop": "\n"}
// prompt: a string (may be empty: generation then starts from the end-of-text token);
// reference: a string, or references: a non-empty array of strings (the output is scored against
// each, the best counts; text_match.h); max_tokens (optional): tokens to generate, >= 1;
// stop (optional): a stop string or an array of them, cut from the output. Blank lines are
// skipped. A file is a generation task when its first item has "prompt" (task_file.h). Local.
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::eval {

struct GenItem {
  std::string prompt;
  std::vector<std::string> references;  // at least one
  int64_t max_tokens = 0;               // 0: the run's default (GenOptions::max_tokens)
  std::vector<std::string> stop;
};

struct GenTask {
  std::string name;  // the file name without .jsonl
  std::string path;
  std::vector<GenItem> items;
};

// The items of JSONL text; errors name `source` and the line ("gen.jsonl:3: ...").
std::vector<GenItem> parse_gen_items(const std::string& text, const std::string& source);

}  // namespace tessera::eval
