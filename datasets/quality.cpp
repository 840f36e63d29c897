#include "datasets/quality.h"

#include "datasets/documents.h"

namespace tessera::datasets {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_text_ascii(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || is_space(c)) return true;
  switch (c) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '\'': case '"': case '(': case ')': case '-':
      return true;
    default:
      return false;
  }
}

// Calls f(is_text) once per character of `text`.
template <typename F>
void for_each_char(std::string_view text, F&& f) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0) {
      f(false);
      ++i;
    } else {
      f(n > 1 || is_text_ascii(text[i]));
      i += n;
    }
  }
}

}  // namespace

uint64_t char_count(std::string_view text) {
  uint64_t n = 0;
  for_each_char(text, [&](bool) { ++n; });
  return n;
}

double non_text_share(std::string_view text) {
  uint64_t all = 0, other = 0;
  for_each_char(text, [&](bool is_text) {
    ++all;
    other += is_text ? 0 : 1;
  });
  return all == 0 ? 0.0 : static_cast<double>(other) / static_cast<double>(all);
}

std::string normalise_for_dedup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace tessera::datasets
