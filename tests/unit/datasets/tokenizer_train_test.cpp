// BPE training: closed-form first merges, the tie rule, determinism, word counts and their
// serialisation, counting files in blocks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_corpus.h"
#include "datasets/tokenizer_train.h"

namespace tessera::datasets {
namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

// The merges of `tok` as byte strings, in rank order.
Merges merges_of(const Tokenizer& tok) {
  Merges out;
  for (const auto& [a, b] : tok.parts().merges)
    out.emplace_back(std::string(tok.token_bytes(a)), std::string(tok.token_bytes(b)));
  return out;
}

std::string sample_text() {
  std::mt19937 rng(11);
  const std::vector<std::string> words = {"the", "cat", "sat", "on", "mat", "and", "then", "ran", "away", "again",
                                          "1984", "!", "don't", "naïve", "東京", "\n\n", "  "};
  std::string text;
  for (int i = 0; i < 4000; ++i) text += (i % 7 ? " " : "") + words[rng() % words.size()];
  return text;
}

TEST(TrainBpe, FirstMergesInClosedForm) {
  // Pairs: (a,b) occurs 5 + 3 = 8 times, (b,c) 3 + 1 = 4 times. After a+b, (ab,c) occurs 3 times.
  WordCounts counts;
  counts.add("ab", 5);
  counts.add("abc", 3);
  counts.add("bc", 1);
  const Tokenizer tok = train_bpe(counts, 256 + 3 + 1);
  EXPECT_EQ(merges_of(tok), (Merges{{"a", "b"}, {"ab", "c"}, {"b", "c"}}));
  EXPECT_EQ(tok.vocab_size(), 260u);
  EXPECT_EQ(tok.token_bytes(256), "ab");
  EXPECT_EQ(tok.token_bytes(257), "abc");
  EXPECT_EQ(tok.token_bytes(258), "bc");
  EXPECT_EQ(tok.eot_id(), 259u);
  EXPECT_EQ(tok.token_bytes('a'), "a");  // byte tokens have the byte's value as id
  EXPECT_EQ(tok.encode("abc"), (std::vector<TokenId>{257}));
}

TEST(TrainBpe, TiesGoToTheSmallestPair) {
  WordCounts counts;
  counts.add("xy", 2);
  counts.add("pq", 2);
  counts.add("mn", 2);
  const Tokenizer tok = train_bpe(counts, 256 + 2, {});
  EXPECT_EQ(merges_of(tok), (Merges{{"m", "n"}, {"p", "q"}}));
}

TEST(TrainBpe, OverlappingPairsAreCountedAndMergedLeftToRight) {
  WordCounts counts;
  // (a,a) x4 -> aa aa a, then (aa,aa) x1 and (aa,a) x1 tie: (256, 97) is the smaller pair.
  counts.add("aaaaa", 1);
  const Tokenizer tok = train_bpe(counts, 256 + 3, {});
  EXPECT_EQ(merges_of(tok), (Merges{{"a", "a"}, {"aa", "a"}, {"aa", "aaa"}}));
  EXPECT_EQ(tok.encode("aaaaa"), (std::vector<TokenId>{258}));
}

TEST(TrainBpe, LearnsFromTextAndRoundTrips) {
  WordCounts counts;
  counts.add_text(sample_text());
  const Tokenizer tok = train_bpe(counts, 400);
  ASSERT_EQ(tok.vocab_size(), 400u);
  EXPECT_EQ(tok.encode(" then").size(), 1u);  // a frequent word becomes one token
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 100, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(tok.decode(tok.encode(s)), s);
  }
  EXPECT_EQ(tok.decode(tok.encode(sample_text())), sample_text());
}

TEST(TrainBpe, StopsWhenNoPairIsLeft) {
  WordCounts counts;
  counts.add("ab", 1);
  const Tokenizer tok = train_bpe(counts, 1000);
  EXPECT_EQ(tok.vocab_size(), 256u + 1 + 1);
}

TEST(TrainBpe, IsDeterministicAndIndependentOfHowTheCorpusWasSplit) {
  const std::string text = sample_text();
  WordCounts whole;
  whole.add_text(text);
  const size_t cut = text.find(" cat", text.size() / 2);  // a piece boundary
  WordCounts first, second;
  first.add_text(text.substr(0, cut));
  second.add_text(text.substr(cut));
  WordCounts merged = WordCounts::deserialize(second.serialize());
  merged.merge(WordCounts::deserialize(first.serialize()));
  EXPECT_EQ(merged.serialize(), whole.serialize());
  const std::string a = train_bpe(whole, 500).to_json();
  EXPECT_EQ(train_bpe(merged, 500).to_json(), a);
  EXPECT_EQ(train_bpe(whole, 500).to_json(), a);
}

TEST(TrainBpe, BadArguments) {
  WordCounts counts;
  counts.add_text("hello hello");
  try {
    train_bpe(counts, 256);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(train_bpe(counts, 256, {}));
  EXPECT_THROW(train_bpe(counts, 300, {"x"}), Error);                  // one byte
  EXPECT_THROW(train_bpe(counts, 300, {"<|a|>", "<|a|>"}), Error);     // twice
  EXPECT_THROW(train_bpe(counts, 300, {"bad \xFF utf8"}), Error);      // not UTF-8
  EXPECT_THROW(train_bpe(counts, 300, {"hello"}), Error);              // also a learned token
}

TEST(WordCounts, CountsPiecesAndSerialises) {
  WordCounts counts;
  counts.add_text("the cat and the hat");
  EXPECT_EQ(counts.counts().at(" the"), 1u);
  EXPECT_EQ(counts.counts().at("the"), 1u);
  EXPECT_EQ(counts.counts().at(" hat"), 1u);
  EXPECT_EQ(counts.total(), 5u);
  counts.add(" the", 1'000'000'000'000);
  const WordCounts back = WordCounts::deserialize(counts.serialize());
  EXPECT_EQ(back.counts(), counts.counts());
  EXPECT_EQ(WordCounts::deserialize(WordCounts().serialize()).size(), 0u);
}

TEST(WordCounts, MalformedBytesAreAnError) {
  WordCounts counts;
  counts.add_text("some words here");
  const std::string bytes = counts.serialize();
  EXPECT_THROW(WordCounts::deserialize("nope"), Error);
  EXPECT_THROW(WordCounts::deserialize(bytes.substr(0, bytes.size() - 2)), Error);
  EXPECT_THROW(WordCounts::deserialize(bytes + "x"), Error);
  EXPECT_THROW(WordCounts::deserialize(std::string("TWC1\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 15)), Error);
}

TEST(CorpusFiles, SafeCutsSplitNoPiece) {
  EXPECT_EQ(last_safe_cut("ab\ncd\n"), 5u);
  EXPECT_EQ(last_safe_cut("ab \n"), std::string::npos);  // after whitespace: the run could continue
  EXPECT_EQ(last_safe_cut("\n\n"), std::string::npos);
  EXPECT_EQ(last_safe_cut("a\nb\n", 4), std::string::npos);
}

TEST(CorpusFiles, CountingAFileInBlocksEqualsCountingItWhole) {
  std::string text;
  while (text.size() < (size_t{9} << 20)) text += sample_text() + " \n\n  x\ty\r\n";
  const auto path = std::filesystem::temp_directory_path() / "tessera_tok_corpus.txt";
  std::ofstream(path, std::ios::binary) << text;
  WordCounts blocks, whole;
  count_file_words(path.string(), blocks);
  whole.add_text(text);
  std::filesystem::remove(path);
  EXPECT_EQ(blocks.serialize(), whole.serialize());
  EXPECT_THROW(count_file_words(path.string(), blocks), Error);
}

}  // namespace
}  // namespace tessera::datasets
