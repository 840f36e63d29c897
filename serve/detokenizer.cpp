#include "serve/detokenizer.h"

#include <algorithm>

#include "core/error.h"

namespace tessera::serve {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

int utf8_status(std::string_view s, size_t i, size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b < 0x80) return 0;
  int need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    if (b == 0xE0) lo = 0xA0;  // no overlong forms
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return -1;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      len = static_cast<size_t>(k);
      return need - k + 1;
    }
    const auto c = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) {
      len = static_cast<size_t>(k);  // the maximal valid prefix is replaced by one U+FFFD
      return -1;
    }
  }
  len = static_cast<size_t>(need) + 1;
  return 0;
}

Detokenizer::Detokenizer(const datasets::Tokenizer& tokenizer, std::vector<std::string> stop)
    : tokenizer_(&tokenizer), stop_(std::move(stop)) {
  for (const auto& s : stop_) TESSERA_CHECK(!s.empty(), "a stop string is empty");
}

std::string Detokenizer::push(int32_t id) {
  return push_bytes(tokenizer_->token_bytes(static_cast<datasets::TokenId>(id)));
}

std::string Detokenizer::push_bytes(std::string_view bytes) {
  if (stopped_) return {};
  bytes_ += bytes;
  decode(false);
  return release(false);
}

std::string Detokenizer::finish() {
  if (stopped_) return {};
  decode(true);
  return release(true);
}

void Detokenizer::decode(bool at_end) {
  size_t i = 0;
  while (i < bytes_.size()) {
    size_t len = 0;
    const int status = utf8_status(bytes_, i, len);
    if (status == 0) {
      text_.append(bytes_, i, len);
    } else if (status < 0 || at_end) {
      text_ += kReplacement;  // an invalid byte, or (at the end) an incomplete sequence, is one U+FFFD
    } else {
      break;  // incomplete: wait for more bytes
    }
    i += len;
  }
  bytes_.erase(0, i);
}

std::string Detokenizer::release(bool at_end) {
  // The earliest stop string in the held text ends generation there.
  size_t match = std::string::npos;
  for (const auto& s : stop_) match = std::min(match, text_.find(s));
  size_t keep_from = text_.size();
  if (match != std::string::npos) {
    stopped_ = true;
    keep_from = match;
  } else if (!at_end) {
    // Hold the longest suffix that is a proper prefix of a stop string.
    for (const auto& s : stop_) {
      for (size_t n = std::min(s.size() - 1, text_.size()); n > 0; --n) {
        if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
          keep_from = std::min(keep_from, text_.size() - n);
          break;
        }
      }
    }
  }
  std::string out = text_.substr(0, keep_from);
  text_.erase(0, stopped_ ? text_.size() : keep_from);
  if (stopped_) bytes_.clear();
  emitted_ += out;
  return out;
}

}  // namespace tessera::serve
