// GPT-2 encoding: golden ids from GPT-2's reference encoder, byte round trips, pre-tokenisation
// details, special tokens and concurrent use.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "datasets/pretokenize.h"
#include "datasets/tokenizer.h"

namespace tessera::datasets {
namespace {

const std::string kData = TESSERA_TEST_DATA;

const Tokenizer& gpt2() {
  static const Tokenizer tok = Tokenizer::load_gpt2(kData + "/gpt2/encoder.json", kData + "/gpt2/vocab.bpe");
  return tok;
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  PreTokenizer::gpt2().split(text, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(ByteUnicode, MapsEveryByteToOnePrintableCharacterAndBack) {
  EXPECT_EQ(byte_to_unicode('A'), "A");
  EXPECT_EQ(byte_to_unicode(' '), "\u0120");   // GPT-2's "Ġ"
  EXPECT_EQ(byte_to_unicode('\n'), "\u010a");  // "Ċ"
  EXPECT_EQ(byte_to_unicode(0xAD), "\u0143");  // the last of the 68 shifted bytes
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string u = bytes_to_unicode(all);
  EXPECT_TRUE(is_valid_utf8(u));
  EXPECT_EQ(unicode_to_bytes(u), all);
  EXPECT_FALSE(unicode_to_bytes("\u0144").has_value());  // outside the map
  EXPECT_FALSE(unicode_to_bytes(" ").has_value());       // a space is always spelled "Ġ"
  EXPECT_FALSE(unicode_to_bytes("\xC3").has_value());    // truncated UTF-8
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xF0\x9F\x91\x8D"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Gpt2Tokenizer, HelloWorld) {
  EXPECT_EQ(gpt2().vocab_size(), 50257u);
  EXPECT_EQ(gpt2().eot_id(), 50256u);
  EXPECT_EQ(gpt2().encode("Hello world"), (std::vector<TokenId>{15496, 995}));
}

TEST(Gpt2Tokenizer, GoldenVectorsFromTheReferenceEncoder) {
  std::ifstream in(kData + "/tokenizer/gpt2_golden.json");
  ASSERT_TRUE(in.good());
  const auto golden = nlohmann::json::parse(in);
  ASSERT_EQ(golden.at("version"), 1);
  const auto& cases = golden.at("cases");
  ASSERT_GE(cases.size(), 50u);
  for (const auto& c : cases) {
    const auto text = c.at("text").get<std::string>();
    const auto expected = c.at("ids").get<std::vector<TokenId>>();
    EXPECT_EQ(gpt2().encode(text), expected) << "text: " << c.at("text").dump();
    EXPECT_EQ(gpt2().decode(expected), text);
  }
}

// Where JavaScript's \s (used by gpt-3-encoder) and Python's (used by encoder.py) disagree, the ids
// are those of encoder.py run with the `regex` module.
TEST(Gpt2Tokenizer, WhitespaceIsPythonsNotJavaScripts) {
  EXPECT_EQ(gpt2().encode(" \xEF\xBB\xBFx"), (std::vector<TokenId>{27332, 119, 123, 87}));   // U+FEFF is not \s
  EXPECT_EQ(gpt2().encode("a\xEF\xBB\xBF b"), (std::vector<TokenId>{64, 171, 119, 123, 275}));
  EXPECT_EQ(pieces("x\xC2\x85."), (std::vector<std::string>{"x", "\xC2\x85", "."}));  // U+0085 is \s
  EXPECT_EQ(pieces("x\xE1\xA0\x8E."), (std::vector<std::string>{"x", "\xE1\xA0\x8E."}));  // U+180E is not
}

TEST(PreTokenizer, SplitsLikeGpt2) {
  EXPECT_EQ(pieces("Hello world"), (std::vector<std::string>{"Hello", " world"}));
  EXPECT_EQ(pieces("I'm  here\n\n x"), (std::vector<std::string>{"I", "'m", " ", " here", "\n\n", " x"}));
  EXPECT_EQ(pieces("a   "), (std::vector<std::string>{"a", "   "}));
  EXPECT_EQ(pieces("x12.5!?"), (std::vector<std::string>{"x", "12", ".", "5", "!?"}));
  EXPECT_TRUE(pieces("").empty());
}

TEST(PreTokenizer, InvalidUtf8BecomesItsOwnPieces) {
  EXPECT_EQ(pieces("ab\xFF\xFE" "cd"), (std::vector<std::string>{"ab", "\xFF\xFE", "cd"}));
  EXPECT_EQ(pieces("\x80"), (std::vector<std::string>{"\x80"}));
  EXPECT_EQ(pieces("x \xC3"), (std::vector<std::string>{"x", " ", "\xC3"}));
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    const std::string s = random_bytes(rng, rng() % 64);
    std::string joined;
    for (const auto& p : pieces(s)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, s);
  }
}

TEST(PreTokenizer, LongRunsDoNotOverflow) {
  const std::string spaces(1 << 20, ' '), letters(1 << 20, 'a');
  EXPECT_EQ(pieces(spaces + "x").size(), 2u);
  EXPECT_EQ(pieces(letters).size(), 1u);
}

TEST(Gpt2Tokenizer, RoundTripsArbitraryBytes) {
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    const std::string s = random_bytes(rng, rng() % 200);
    EXPECT_EQ(gpt2().decode(gpt2().encode(s)), s);
  }
  const std::string nul("a\0b\0\0c", 6);
  EXPECT_EQ(gpt2().decode(gpt2().encode(nul)), nul);
}

TEST(Gpt2Tokenizer, LongPieceEncodesInReasonableTime) {
  std::string digits;
  for (int i = 0; i < 200000; ++i) digits.push_back(static_cast<char>('0' + i % 10));
  const auto ids = gpt2().encode(digits);  // one piece of 200 KB: quadratic merging would take minutes
  EXPECT_EQ(gpt2().decode(ids), digits);
}

TEST(Gpt2Tokenizer, SpecialTokens) {
  const std::string text = "a<|endoftext|>b";
  EXPECT_EQ(gpt2().encode(text), (std::vector<TokenId>{64, 27, 91, 437, 1659, 5239, 91, 29, 65}));
  EXPECT_EQ(gpt2().encode_with_special(text), (std::vector<TokenId>{64, 50256, 65}));
  EXPECT_EQ(gpt2().encode_with_special("<|endoftext|><|endoftext|>"), (std::vector<TokenId>{50256, 50256}));
  EXPECT_EQ(gpt2().encode_with_special("plain"), gpt2().encode("plain"));
  EXPECT_EQ(gpt2().decode(std::vector<TokenId>{50256}), "<|endoftext|>");
  EXPECT_EQ(gpt2().special_id("<|endoftext|>"), 50256u);
  EXPECT_FALSE(gpt2().special_id("<|nope|>").has_value());
}

TEST(Gpt2Tokenizer, UnknownIdIsAClearError) {
  try {
    gpt2().decode(std::vector<TokenId>{15496, 50257});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown token id 50257"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gpt2().token_bytes(1u << 31), Error);
}

TEST(Gpt2Tokenizer, ConcurrentEncodesAgree) {
  std::mt19937 rng(3);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("text " + std::to_string(i) + " " + random_bytes(rng, 300));
  const Tokenizer tok = gpt2();  // a copy shares the cache with the original
  const Tokenizer fresh = Tokenizer::from_parts(tok.parts(), "copy");  // its own cache
  std::vector<std::vector<TokenId>> expected;
  for (const auto& t : texts) expected.push_back(fresh.encode(t));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        for (size_t i = 0; i < texts.size(); ++i)
          if (tok.encode(texts[(i + static_cast<size_t>(t)) % texts.size()]) !=
              expected[(i + static_cast<size_t>(t)) % texts.size()])
            ++failures[static_cast<size_t>(t)];
    });
  }
  for (auto& th : threads) th.join();
  for (const int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace tessera::datasets
