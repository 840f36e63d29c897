#include "datasets/documents.h"

#include <algorithm>
#include <filesystem>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tessera::datasets {

namespace fs = std::filesystem;

namespace {

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                                                             c == '\f' || c == '\v'; });
}

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Calls f(line, line_number) for each line of content, without its '\n'.
template <typename F>
void for_each_line(std::string_view content, F&& f) {
  size_t start = 0, number = 1;
  while (start < content.size()) {
    const size_t end = content.find('\n', start);
    const size_t stop = end == std::string_view::npos ? content.size() : end;
    f(content.substr(start, stop - start), number++);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

bool has_fortune_separator(std::string_view content) {
  bool found = false;
  for_each_line(content, [&](std::string_view line, size_t) { found = found || strip_cr(line) == "%"; });
  return found;
}

std::vector<std::string> text_documents(std::string_view content) {
  if (is_blank(content)) return {};
  return {std::string(content)};
}

std::vector<std::string> fortune_documents(std::string_view content) {
  std::vector<std::string> docs;
  std::string current;
  auto flush = [&] {
    if (!current.empty() && current.back() == '\n') current.pop_back();  // the newline before '%'
    if (!current.empty() && current.back() == '\r') current.pop_back();
    if (!is_blank(current)) docs.push_back(std::move(current));
    current.clear();
  };
  for_each_line(content, [&](std::string_view line, size_t) {
    if (strip_cr(line) == "%") {
      flush();
    } else {
      current.append(line);
      current.push_back('\n');
    }
  });
  flush();
  return docs;
}

std::vector<std::string> jsonl_documents(std::string_view content, const std::string& path) {
  std::vector<std::string> docs;
  for_each_line(content, [&](std::string_view line, size_t number) {
    if (is_blank(line)) return;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      TESSERA_FAIL("{}:{}: not valid JSON: {}", path, number, e.what());
    }
    TESSERA_CHECK(object.is_object(), "{}:{}: expected a JSON object with a string \"text\"", path, number);
    const auto text = object.find("text");
    TESSERA_CHECK(text != object.end() && text->is_string(), "{}:{}: the object has no string \"text\"", path,
                  number);
    auto value = text->get<std::string>();
    if (!is_blank(value)) docs.push_back(std::move(value));
  });
  return docs;
}

bool is_hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

// True for `X.dat` beside a fortune file `X` in the same directory (`names`): strfile's index of
// X, binary, not a document source.
bool is_strfile_index(const fs::path& p, const std::set<std::string>& names, InputFormat format) {
  if (p.extension() != ".dat" || (format != InputFormat::Auto && format != InputFormat::Fortune)) return false;
  const fs::path text = fs::path(p).replace_extension();
  if (!names.count(text.filename().string())) return false;
  return format == InputFormat::Fortune || has_fortune_separator(read_file_bytes(text.string()));
}

}  // namespace

size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  unsigned min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = b0 & (0x7Fu >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

InputFormat parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::Auto;
  if (name == "text") return InputFormat::Text;
  if (name == "jsonl") return InputFormat::Jsonl;
  if (name == "fortune") return InputFormat::Fortune;
  TESSERA_FAIL("unknown input format '{}' (expected auto, text, jsonl or fortune)", name);
}

std::string_view format_name(InputFormat format) {
  switch (format) {
    case InputFormat::Auto: return "auto";
    case InputFormat::Text: return "text";
    case InputFormat::Jsonl: return "jsonl";
    case InputFormat::Fortune: return "fortune";
  }
  return "?";
}

std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths, InputFormat format) {
  TESSERA_CHECK(!paths.empty(), "no input files given");
  std::vector<InputFile> files;
  for (const auto& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    TESSERA_CHECK(!ec && fs::exists(status), "input {} does not exist", path);
    if (!fs::is_directory(status)) {
      files.push_back({path, format});
      continue;
    }
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && !entry.is_symlink() && !is_hidden(entry.path())) entries.push_back(entry.path());
    }
    TESSERA_CHECK(!ec, "cannot list the input directory {}: {}", path, ec.message());
    std::sort(entries.begin(), entries.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
    std::set<std::string> names;
    for (const auto& e : entries) names.insert(e.filename().string());
    for (const auto& e : entries) {
      if (is_strfile_index(e, names, format)) continue;
      // Directory entries keep the spelling of the directory the user gave.
      files.push_back({(fs::path(path) / e.filename()).string(), format});
    }
  }
  return files;
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  TESSERA_CHECK(fs::exists(path, ec), "input {} does not exist", path);
  TESSERA_CHECK(!fs::is_directory(path, ec), "input {} is a directory, not a file", path);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  TESSERA_CHECK(file != nullptr, "cannot read input {}: {}", path, std::strerror(errno));
  std::string bytes;
  const auto size = fs::file_size(path, ec);
  if (!ec) bytes.reserve(size);
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) bytes.append(buffer, n);
  TESSERA_CHECK(!std::ferror(file.get()), "cannot read input {}: {}", path, std::strerror(errno));
  return bytes;
}

InputFormat detect_format(const std::string& path, std::string_view content) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".jsonl" || ext == ".json") return InputFormat::Jsonl;
  if (has_fortune_separator(content)) return InputFormat::Fortune;
  return InputFormat::Text;
}

void check_text(std::string_view content, const std::string& path) {
  const size_t nul = content.find('\0');
  TESSERA_CHECK(nul == std::string_view::npos, "input {} looks binary (NUL byte at offset {}), not text", path, nul);
  size_t invalid = 0;
  for (size_t i = 0; i < content.size();) {
    const size_t n = utf8_sequence(content, i);
    if (n == 0) {
      ++invalid;
      ++i;
    } else {
      i += n;
    }
  }
  // Latin-1 or slightly damaged text is still text (byte-level BPE takes any bytes); a file whose
  // bytes are mostly not UTF-8 is not.
  TESSERA_CHECK(invalid * 4 <= content.size(), "input {} looks binary ({} of {} bytes are not valid UTF-8), not text",
                path, invalid, content.size());
}

std::vector<std::string> split_documents(std::string_view content, InputFormat format, const std::string& path) {
  if (format == InputFormat::Auto) format = detect_format(path, content);
  switch (format) {
    case InputFormat::Text: return text_documents(content);
    case InputFormat::Fortune: return fortune_documents(content);
    case InputFormat::Jsonl: return jsonl_documents(content, path);
    case InputFormat::Auto: break;
  }
  TESSERA_FAIL("unresolved input format for {}", path);
}

}  // namespace tessera::datasets
