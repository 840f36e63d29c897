#include "datasets/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "core/error.h"

namespace tessera::datasets {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buffer);
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

}  // namespace

struct PreTokenizer::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

const char* PreTokenizer::gpt2_pattern() {
  // \s spelled as \p{White_Space} (see the header).
  return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+)"
         R"(|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+)";
}

PreTokenizer::PreTokenizer() : code_(std::make_unique<Code>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // MATCH_INVALID_UTF: invalid UTF-8 in the subject is never matched (instead of failing the match),
  // so split() can hand such bytes over as pieces of their own.
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(gpt2_pattern()), PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  TESSERA_CHECK(code_->code != nullptr, "pre-tokenizer regex does not compile at offset {}: {}", offset,
                pcre2_message(error));
  // Without JIT support PCRE2 interprets the pattern: the same pieces, only slower.
  pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE);
}

PreTokenizer::~PreTokenizer() = default;

const PreTokenizer& PreTokenizer::gpt2() {
  static const PreTokenizer instance;
  return instance;
}

void PreTokenizer::split(std::string_view text, const std::function<void(std::string_view)>& on_piece) const {
  if (text.empty()) return;
  const std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
      pcre2_match_data_create_from_pattern(code_->code, nullptr));
  TESSERA_CHECK(md != nullptr, "pre-tokenizer: out of memory");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md.get());
  size_t pos = 0;
  while (pos < text.size()) {
    const int rc = pcre2_match(code_->code, subject, text.size(), pos, 0, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {  // only invalid UTF-8 is left
      on_piece(text.substr(pos));
      return;
    }
    TESSERA_CHECK(rc >= 0, "pre-tokenizer: {}", pcre2_message(rc));
    const size_t start = ovector[0], end = ovector[1];
    if (start > pos) on_piece(text.substr(pos, start - pos));  // skipped invalid UTF-8
    on_piece(text.substr(start, end - start));  // every alternative consumes a character
    pos = end;
  }
}

}  // namespace tessera::datasets
