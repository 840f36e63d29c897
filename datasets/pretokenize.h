#pragma once
// GPT-2's pre-tokenisation: text is cut into pieces by the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (PCRE2, UTF + UCP, JIT-compiled), and BPE merges never cross a piece boundary. `\s` is taken as
// Unicode's White_Space property, as in Python's `regex` module that GPT-2's encoder.py uses (PCRE2's
// own `\s` also matches U+180E; JavaScript's also U+FEFF but not U+0085). Letter and number classes
// follow PCRE2's Unicode tables (Unicode 14 in PCRE2 10.42). The input may be any
// bytes: a run of bytes that is not valid UTF-8 becomes a piece of its own, so the pieces always
// concatenate back to the input.
#include <functional>
#include <memory>
#include <string_view>

namespace tessera::datasets {

class PreTokenizer {
 public:
  static constexpr std::string_view kGpt2Name = "gpt2";  // the name formats record
  static const char* gpt2_pattern();                      // the regex above, in PCRE2 syntax

  // The compiled GPT-2 pre-tokeniser, shared and immutable (matching is thread-safe).
  static const PreTokenizer& gpt2();

  // Calls `on_piece` with each piece of `text` in order: views into `text`, none empty, that
  // together are all of `text`.
  void split(std::string_view text, const std::function<void(std::string_view)>& on_piece) const;

  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

 private:
  PreTokenizer();
  struct Code;  // the compiled pattern (PCRE2 stays out of this header)
  std::unique_ptr<Code> code_;
};

}  // namespace tessera::datasets
