#include "eval/text_match.h"

#include <algorithm>
#include <map>

namespace tessera::eval {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string> split_tokens(const std::string& normalised) {
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < normalised.size()) {
    size_t end = normalised.find(' ', start);
    if (end == std::string::npos) end = normalised.size();
    tokens.push_back(normalised.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

double f1_one(const std::vector<std::string>& output, const std::vector<std::string>& reference) {
  if (output.empty() || reference.empty()) return output.empty() && reference.empty() ? 1.0 : 0.0;
  std::map<std::string, int> counts;
  for (const std::string& t : reference) ++counts[t];
  double common = 0;
  for (const std::string& t : output) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = common / static_cast<double>(output.size());
  const double recall = common / static_cast<double>(reference.size());
  return 2 * precision * recall / (precision + recall);
}

}  // namespace

std::string normalise_answer(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

double exact_match(std::string_view output, const std::vector<std::string>& references) {
  const std::string o = normalise_answer(output);
  return std::any_of(references.begin(), references.end(),
                     [&](const std::string& r) { return normalise_answer(r) == o; }) ? 1.0 : 0.0;
}

double token_f1(std::string_view output, const std::vector<std::string>& references) {
  const std::vector<std::string> o = split_tokens(normalise_answer(output));
  double best = 0;
  for (const std::string& r : references) best = std::max(best, f1_one(o, split_tokens(normalise_answer(r))));
  return best;
}

}  // namespace tessera::eval
