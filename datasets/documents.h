#pragma once
// Documents: the units of text that prepare deduplicates, splits and tokenizes, read from input
// files by format.
//   text     a file is one document
//   jsonl    one JSON object per line with a string "text"; blank lines are skipped
//   fortune  documents separated by lines holding only '%' (fortune(6) files)
//   auto     .jsonl/.json -> jsonl; a file with a line that is exactly '%' -> fortune; else text
// Documents with no non-whitespace character are dropped in every format.
#include <string>
#include <string_view>
#include <vector>

namespace tessera::datasets {

enum class InputFormat { Auto, Text, Jsonl, Fortune };

InputFormat parse_input_format(std::string_view name);  // "auto", "text", "jsonl", "fortune"
std::string_view format_name(InputFormat format);

struct InputFile {
  std::string path;
  InputFormat format = InputFormat::Auto;  // as requested; resolved per file by read_input
};

// Files named by `paths`, in the order given. A directory expands to its regular files sorted by
// name (hidden files and symbolic links inside it are skipped); with auto or fortune format, an
// `X.dat` beside a fortune file `X` is X's strfile index and is skipped too. A missing path is an
// error.
std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths, InputFormat format);

// The whole content of a file; an error naming the file when it cannot be read.
std::string read_file_bytes(const std::string& path);

// The format `auto` resolves to for a file with this path and content.
InputFormat detect_format(const std::string& path, std::string_view content);

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t utf8_sequence(std::string_view s, size_t i);

// An error naming `path` when the content is binary: NUL bytes, or mostly invalid UTF-8.
void check_text(std::string_view content, const std::string& path);

// The documents of one file's content in `format` (Auto resolved with detect_format). Errors name
// `path` (and the line, for JSONL).
std::vector<std::string> split_documents(std::string_view content, InputFormat format, const std::string& path);

}  // namespace tessera::datasets
