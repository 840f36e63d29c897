// Incremental detokenisation on a byte-level vocabulary (one token per byte, as byte-level BPE
// falls back to): Chinese and emoji text split into single bytes comes out whole characters only,
// invalid and truncated sequences become U+FFFD, and stop strings match across token boundaries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "serve/detokenizer.h"
#include "tests/unit/serve/serve_test_support.h"

namespace tessera::serve {
namespace {

using testing::byte_tokenizer;

bool valid_utf8(const std::string& s) {
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    if (utf8_status(s, i, len) != 0) return false;
  }
  return true;
}

// Feeds text one byte token at a time; returns the deltas, the last from finish().
std::vector<std::string> feed(Detokenizer& d, const std::string& text) {
  std::vector<std::string> deltas;
  for (unsigned char c : text) deltas.push_back(d.push(c));
  deltas.push_back(d.finish());
  return deltas;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

TEST(Detokenizer, ChineseAndEmojiSplitIntoBytesComeOutAsWholeCharacters) {
  const auto tok = byte_tokenizer();
  const std::string text = "你好，世界! 😀🎉 ok";
  Detokenizer d(tok);
  const auto deltas = feed(d, text);
  EXPECT_EQ(joined(deltas), text);
  EXPECT_EQ(d.text(), text);
  for (const auto& delta : deltas) EXPECT_TRUE(valid_utf8(delta)) << "a delta split a character";
  // 你 is E4 BD A0: nothing after one and two bytes, the character after the third.
  EXPECT_EQ(deltas[0], "");
  EXPECT_EQ(deltas[1], "");
  EXPECT_EQ(deltas[2], "你");
  // 😀 is F0 9F 98 80: nothing after its first three bytes, the emoji after the fourth.
  const size_t at = text.find("😀");
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(deltas[at + k], "");
  EXPECT_EQ(deltas[at + 3], "😀");
}

TEST(Detokenizer, InvalidBytesBecomeReplacementCharacters) {
  const auto tok = byte_tokenizer();
  Detokenizer d(tok);
  EXPECT_EQ(d.push_bytes("a\xFF"), "a\xEF\xBF\xBD");    // never valid: replaced at once
  EXPECT_EQ(d.push_bytes("\xE4\xBD"), "");               // may still complete: held
  EXPECT_EQ(d.push_bytes("b"), "\xEF\xBF\xBD" "b");      // it did not: one U+FFFD, then b
  EXPECT_EQ(d.push_bytes("\xF0\x9F\x98"), "");            // a truncated emoji at the end of generation
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");
  EXPECT_TRUE(valid_utf8(d.text()));
}

TEST(Detokenizer, StopStringsMatchAcrossTokens) {
  const auto tok = byte_tokenizer();
  Detokenizer d(tok, {"<end>", "\n\n"});
  EXPECT_EQ(d.push_bytes("Hello <"), "Hello ");  // "<" may begin "<end>": held
  EXPECT_EQ(d.push_bytes("e"), "");
  EXPECT_EQ(d.push_bytes("x"), "<ex");           // it did not
  EXPECT_EQ(d.push_bytes(" <en"), " ");
  EXPECT_FALSE(d.stopped());
  EXPECT_EQ(d.push_bytes("d> and more"), "");    // the match: the stop string and the rest dropped
  EXPECT_TRUE(d.stopped());
  EXPECT_EQ(d.push_bytes("later"), "");
  EXPECT_EQ(d.finish(), "");
  EXPECT_EQ(d.text(), "Hello <ex ");
}

TEST(Detokenizer, StopStringSpanningSingleByteTokensOfAMultibyteCharacter) {
  const auto tok = byte_tokenizer();
  Detokenizer d(tok, {"世界"});
  const auto deltas = feed(d, "你好世界再见");
  EXPECT_EQ(joined(deltas), "你好");
  EXPECT_TRUE(d.stopped());
}

TEST(Detokenizer, HeldPrefixIsReleasedAtTheEnd) {
  const auto tok = byte_tokenizer();
  Detokenizer d(tok, {"STOP"});
  EXPECT_EQ(d.push_bytes("abc ST"), "abc ");
  EXPECT_EQ(d.finish(), "ST");
  EXPECT_FALSE(d.stopped());
}

}  // namespace
}  // namespace tessera::serve
