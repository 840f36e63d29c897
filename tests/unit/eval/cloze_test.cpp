// The built-in cloze task: reproducible for a seed, different for another, the right choice is
// the document's own continuation, and too few documents is a clear error.
#include <gtest/gtest.h>

#include "eval/cloze.h"
#include "tests/unit/eval/eval_fixture.h"

namespace tessera::eval {
namespace {

std::vector<std::string> documents() {
  std::vector<std::string> docs;
  for (int d = 0; d < 12; ++d) {
    std::string text;
    for (int w = 0; w < 20; ++w) text += "d" + std::to_string(d) + "w" + std::to_string(w) + (w % 7 == 6 ? "\n" : " ");
    docs.push_back(text);
  }
  docs.push_back("too short to use");
  return docs;
}

TEST(Cloze, ItemsAreTheDocumentsOwnContinuationsAmongOthers) {
  ClozeOptions o;
  o.items = 5;
  o.context_words = 4;
  o.continuation_words = 3;
  const auto items = make_cloze(documents(), o);
  ASSERT_EQ(items.size(), 5u);
  for (const McItem& item : items) {
    ASSERT_EQ(item.choices.size(), 4u);
    const std::string doc = item.context.substr(0, item.context.find('w'));  // "dN"
    EXPECT_EQ(item.context, doc + "w0 " + doc + "w1 " + doc + "w2 " + doc + "w3");
    EXPECT_EQ(item.choices[item.label], " " + doc + "w4 " + doc + "w5 " + doc + "w6");
    for (size_t c = 0; c < item.choices.size(); ++c) {
      if (c != item.label) {
        EXPECT_EQ(item.choices[c].find(" " + doc + "w"), std::string::npos) << item.choices[c];
      }
    }
  }
}

TEST(Cloze, TheSameSeedGivesTheSameItemsAnotherSeedOthers) {
  ClozeOptions o;
  o.items = 8;
  const std::string a = to_jsonl(make_cloze(documents(), o)), again = to_jsonl(make_cloze(documents(), o));
  o.seed = 99;
  const std::string other = to_jsonl(make_cloze(documents(), o));
  EXPECT_EQ(a, again);
  EXPECT_NE(a, other);
  EXPECT_EQ(parse_items(a, "cloze").size(), 8u);
}

TEST(Cloze, TooFewLongDocumentsIsAnError) {
  const std::string e = testing_support::error_of([] { make_cloze({"one two", "three"}, {}); });
  EXPECT_NE(e.find("only 0 of 2 validation documents have 18 words or more"), std::string::npos) << e;
}

TEST(Cloze, DocumentsOfPreparedShardsDecodeToTheirText) {
  const auto docs = shard_documents(eval_testing::val_shards(), eval_testing::tokenizer());
  ASSERT_GE(docs.size(), 4u);
  for (const std::string& d : docs) EXPECT_EQ(d.find("<|endoftext|>"), std::string::npos);
  ClozeOptions o;
  o.context_words = 6;
  o.continuation_words = 3;
  EXPECT_GE(make_cloze(docs, o).size(), 2u);
}

}  // namespace
}  // namespace tessera::eval
