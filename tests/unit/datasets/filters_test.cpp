// prepare's document filters: the quality measures on known values, MinHash against the true
// Jaccard similarity, LSH banding for known thresholds, near-copies removed and documents that
// only share boilerplate kept, exact duplicates after normalisation, counts per reason, and
// errors for bad settings.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/filters.h"
#include "datasets/quality.h"
#include "tests/unit/test_support.h"

using namespace tessera::datasets;
using tessera::testing_support::error_of;

namespace {

// `n` words drawn from a 5000-word vocabulary by a fixed LCG started at `seed`.
std::vector<std::string> words(size_t n, uint64_t seed) {
  std::vector<std::string> w;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    w.push_back("w" + std::to_string((seed >> 33) % 5000));
  }
  return w;
}

std::string join(const std::vector<std::string>& w) {
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

// The exact Jaccard similarity of two texts' sets of k-word shingles (words split on spaces).
double true_jaccard(const std::vector<std::string>& a, const std::vector<std::string>& b, size_t k) {
  auto shingles = [k](const std::vector<std::string>& w) {
    std::set<std::string> s;
    for (size_t i = 0; i + k <= w.size(); ++i) {
      std::string sh;
      for (size_t j = 0; j < k; ++j) sh += w[i + j] + " ";
      s.insert(sh);
    }
    return s;
  };
  const auto sa = shingles(a), sb = shingles(b);
  size_t both = 0;
  for (const auto& s : sa) both += sb.count(s);
  return static_cast<double>(both) / static_cast<double>(sa.size() + sb.size() - both);
}

const std::vector<std::string> kBoilerplate = {
    "this", "message", "and", "any", "attachments", "are", "confidential", "if", "you", "received", "it", "in",
    "error", "please", "notify", "the", "sender", "and", "delete", "it", "sent", "from", "the", "mailing", "list",
    "archive", "unsubscribe", "at", "any", "time", "by", "writing", "to", "the", "list", "owner", "thank", "you"};

}  // namespace

TEST(Quality, MeasuresOnKnownTexts) {
  EXPECT_EQ(char_count("h\xc3\xa9llo"), 5u);  // é is two bytes, one character
  EXPECT_EQ(char_count("\xff" "ab"), 3u);      // an invalid byte counts as one
  EXPECT_EQ(char_count(""), 0u);
  EXPECT_DOUBLE_EQ(non_text_share("a#b$"), 0.5);
  EXPECT_DOUBLE_EQ(non_text_share("H\xc3\xa9llo, (world) - it's \"fine\"!\n"), 0.0);
  EXPECT_DOUBLE_EQ(non_text_share("{}"), 1.0);
  EXPECT_DOUBLE_EQ(non_text_share("ab\x01\xff"), 0.5);  // a control character and an invalid byte
  EXPECT_DOUBLE_EQ(non_text_share(""), 0.0);
  EXPECT_EQ(normalise_for_dedup("  Hello,\n  World \t"), "hello, world");
  EXPECT_EQ(normalise_for_dedup("hello, world"), "hello, world");
  EXPECT_EQ(normalise_for_dedup("Caf\xc3\x89"), "caf\xc3\x89");  // only ASCII is lowercased
}

TEST(NearDup, BandingForKnownThresholds) {
  // rows: the most for which 1 - (1 - t^rows)^(128/rows) >= 0.99.
  EXPECT_EQ(banding_for(0.8).rows, 4u);   // rows 8 gives 0.947
  EXPECT_EQ(banding_for(0.8).bands, 32u);
  EXPECT_EQ(banding_for(0.9).rows, 8u);   // rows 16 gives 0.805
  EXPECT_EQ(banding_for(0.5).rows, 2u);   // rows 4 gives 0.873
  EXPECT_EQ(banding_for(1.0).rows, 128u);
  EXPECT_EQ(banding_for(1.0).bands, 1u);
}

TEST(NearDup, SignaturesEstimateTheJaccardSimilarity) {
  const auto a = words(300, 1);
  auto b = a;
  for (size_t i : {40, 120, 200, 260}) b[i] = "changed";
  bool empty = false;
  const auto sa = minhash(join(a), 5, 7, empty);
  EXPECT_FALSE(empty);
  const auto sb = minhash(join(b), 5, 7, empty);
  const double exact = true_jaccard(a, b, 5);
  EXPECT_GT(exact, 0.85);
  EXPECT_NEAR(estimated_jaccard(sa, sb), exact, 0.1);
  EXPECT_EQ(estimated_jaccard(sa, minhash(join(a), 5, 7, empty)), 1.0);  // deterministic
  // Case and punctuation do not change the words.
  EXPECT_EQ(estimated_jaccard(sa, minhash("  " + join(a) + "!", 5, 7, empty)), 1.0);
  const auto unrelated = minhash(join(words(300, 2)), 5, 7, empty);
  EXPECT_LT(estimated_jaccard(sa, unrelated), 0.05);
  minhash("  ... !!! ", 5, 7, empty);
  EXPECT_TRUE(empty);
}

TEST(DocumentFilter, NearCopiesGoAndSharedBoilerplateStays) {
  FilterOptions o;
  o.near_dedup = 0.8;
  DocumentFilter filter(o);
  const auto a = words(300, 11);
  auto near = a, near2 = a;
  for (size_t i : {30, 150, 270}) near[i] = "different";
  for (size_t i : {10, 100, 200}) near2[i] = "other";
  auto b = words(120, 12), c = words(120, 13);
  b.insert(b.end(), kBoilerplate.begin(), kBoilerplate.end());
  c.insert(c.end(), kBoilerplate.begin(), kBoilerplate.end());
  ASSERT_GT(true_jaccard(a, near, 5), 0.8);
  ASSERT_LT(true_jaccard(b, c, 5), 0.3);

  auto kept = filter.apply({join(a), join(b), join(near)});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].text, join(a));
  EXPECT_EQ(kept[1].text, join(b));
  // Later files are compared with earlier ones: another near copy of a, and c, which only shares
  // the boilerplate with b.
  kept = filter.apply({join(near2), join(c)});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].text, join(c));
  EXPECT_EQ(filter.counts().near_duplicates, 2u);
  EXPECT_EQ(filter.counts().duplicates, 0u);
}

TEST(DocumentFilter, CountsEveryReasonOnce) {
  FilterOptions o;
  o.mask_pii = true;
  o.min_chars = 10;
  o.max_non_text = 0.3;
  o.near_dedup = 0.8;
  DocumentFilter filter(o);
  const std::string a = join(words(200, 21));
  auto near = words(200, 21);
  near[100] = "edited";
  std::string shouted = a;
  for (char& ch : shouted) ch = ch == 'w' ? 'W' : ch == ' ' ? '\n' : ch;
  const std::vector<std::string> docs = {
      "short",                                                     // too short: 5 characters
      "#### $$$$ %%%% &&&& **** ~~~~",                             // non-text: 24 of 29
      a,                                                           // kept
      "  " + shouted + " ",                                        // exact duplicate once normalised
      join(near),                                                  // near duplicate
      "mail me at x@example.com or call 555-123-4567, thanks",     // kept, masked
      "short again but masked: 10.0.0.1 x",                        // kept (35 characters)
  };
  const auto kept = filter.apply(docs);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].text, a);
  EXPECT_EQ(kept[1].text, "mail me at <EMAIL> or call <PHONE>, thanks");
  EXPECT_EQ(kept[1].sha256, tessera::sha256_hex(kept[1].text));
  EXPECT_EQ(kept[2].text, "short again but masked: <IP> x");
  const FilterCounts& c = filter.counts();
  EXPECT_EQ(c.too_short, 1u);
  EXPECT_EQ(c.non_text, 1u);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.near_duplicates, 1u);
  EXPECT_EQ(c.dropped(), 4u);
  EXPECT_EQ(c.pii[PiiKind::Email], 1u);
  EXPECT_EQ(c.pii[PiiKind::Phone], 1u);
  EXPECT_EQ(c.pii[PiiKind::Ipv4], 1u);

  // With every filter off but the default exact deduplication, only the duplicate goes.
  DocumentFilter plain{FilterOptions{}};
  EXPECT_EQ(plain.apply(docs).size(), 6u);
  EXPECT_EQ(plain.counts().duplicates, 1u);
  FilterOptions none;
  none.dedup = false;
  DocumentFilter all{none};
  EXPECT_EQ(all.apply(docs).size(), 7u);
}

TEST(DocumentFilter, BadSettingsAreErrorsNamingTheOption) {
  auto message = [](FilterOptions o) { return error_of([&] { validate(o); }); };
  FilterOptions o;
  EXPECT_NO_THROW(validate(o));
  o.min_chars = -1;
  EXPECT_NE(message(o).find("--min-chars must be 0 or more"), std::string::npos);
  o = {};
  for (double share : {-0.1, 1.5, std::nan("")}) {
    o.max_non_text = share;
    EXPECT_NE(message(o).find("--max-non-text must be a share in [0, 1]"), std::string::npos) << share;
  }
  o = {};
  for (double t : {0.0, -0.5, 1.01}) {
    o.near_dedup = t;
    EXPECT_NE(message(o).find("--near-dedup must be a Jaccard similarity threshold in (0, 1]"), std::string::npos)
        << t;
  }
  o.near_dedup = 1.0;
  EXPECT_NO_THROW(validate(o));
  o.shingle_words = 0;
  EXPECT_NE(message(o).find("--shingle-words"), std::string::npos);
  EXPECT_THROW(DocumentFilter{o}, tessera::Error);
}
