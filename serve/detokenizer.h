#pragma once
// Incremental detokenisation: a request's generated tokens become text as they arrive, never
// emitting half of a UTF-8 sequence or text that may still turn out to be part of a stop string.
//
// Byte-level BPE tokens are bytes: a character may span several tokens (a Chinese character is 3
// bytes, an emoji 4). Bytes are held back until their sequence completes; an invalid byte (one
// that no continuation can make valid) becomes U+FFFD at once; an incomplete sequence left at the
// end becomes U+FFFD at finish(). Stop strings are matched on the text across token boundaries:
// text that could be the beginning of a stop string is held back until it is known not to be. On
// a match the text before it is emitted, the stop string and everything after are dropped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/tokenizer.h"

namespace tessera::serve {

class Detokenizer {
 public:
  Detokenizer(const datasets::Tokenizer& tokenizer, std::vector<std::string> stop = {});

  // Adds one generated token; returns the text that became final (often empty).
  std::string push(int32_t id);
  // The same for raw bytes.
  std::string push_bytes(std::string_view bytes);
  // The end of generation: the text still held, an incomplete UTF-8 tail as U+FFFD ("" once
  // stopped).
  std::string finish();
  // True once a stop string matched: nothing more is emitted.
  bool stopped() const { return stopped_; }
  // All text emitted so far.
  const std::string& text() const { return emitted_; }

 private:
  // Moves the complete (or certainly invalid) UTF-8 of bytes_ into text_; with at_end, also the
  // incomplete tail (as U+FFFD).
  void decode(bool at_end);
  // Emits what of text_ is final: up to a stop string (then stops), else up to the longest suffix
  // that begins a stop string (all of it with at_end).
  std::string release(bool at_end);

  const datasets::Tokenizer* tokenizer_;
  std::vector<std::string> stop_;
  std::string bytes_;    // raw bytes not yet decoded (an incomplete UTF-8 sequence)
  std::string text_;     // valid UTF-8 not yet emitted
  std::string emitted_;  // everything emitted
  bool stopped_ = false;
};

// Bytes a valid UTF-8 sequence starting at s[i] still needs, as a decoder sees it:
// 0 when s[i..] starts a complete valid sequence (len: its length), -1 when s[i..] starts no valid
// sequence (len: the bytes of its maximal valid prefix, replaced by one U+FFFD as the Unicode
// standard recommends), or the count of bytes missing when s[i..]
// is a valid but incomplete beginning (len: the bytes present).
int utf8_status(std::string_view s, size_t i, size_t& len);

}  // namespace tessera::serve
