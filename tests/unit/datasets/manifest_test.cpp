// manifest.json round trips and atomic writes; the content-decided train/validation split and
// deduplication.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/doc_split.h"
#include "datasets/manifest.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;
using namespace tessera::testing_support;

namespace {

Manifest sample() {
  Manifest m;
  m.tessera_version = "0.1.0";
  m.inputs = {{"corpus/a.txt", "text", 10, std::string(64, 'a'), 1},
              {"corpus/b", "fortune", 20, std::string(64, 'b'), 3}};
  m.counts = {4, 1, 2, 1, 30, 12};
  m.tokenizer_hash = std::string(64, 'c');
  m.vocab_size = 512;
  m.eot_id = 511;
  m.tokenizer_trained = true;
  m.dtype = "uint16";
  m.val_fraction = 0.05;
  m.seed = 1337;
  m.shard_tokens = 20;
  m.shards = {{"train_00000.h5", "train", 20, 2, "d"}, {"train_00001.h5", "train", 10, 0, "e"},
              {"val_00000.h5", "val", 12, 1, "f"}};
  return m;
}

}  // namespace

TEST(Manifest, JsonRoundTrip) {
  const Manifest m = sample();
  const auto j = m.to_json();
  EXPECT_EQ(j["format"], "tessera-prepared");
  EXPECT_EQ(j["counts"]["duplicates_removed"], 1);
  EXPECT_EQ(j["tokenizer"]["file"], "tokenizer.json");
  const Manifest back = Manifest::from_json(j, "test");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.shard_paths("out", "train"), (std::vector<std::string>{"out/train_00000.h5", "out/train_00001.h5"}));
  EXPECT_EQ(back.shard_paths("out", "val"), (std::vector<std::string>{"out/val_00000.h5"}));
}

TEST(Manifest, SavedAtomicallyAndLoaded) {
  TempDir dir;
  save_manifest(sample(), dir.path.string());
  EXPECT_TRUE(fs::exists(dir.path / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir.path / "manifest.json.tmp"));
  EXPECT_EQ(load_manifest(dir.path.string()).to_json(), sample().to_json());
}

TEST(Manifest, BadManifestsAreErrors) {
  TempDir dir;
  EXPECT_THROW(load_manifest(dir.path.string()), tessera::Error);
  std::ofstream(dir.path / "manifest.json") << "{not json";
  EXPECT_THROW(load_manifest(dir.path.string()), tessera::Error);
  auto j = sample().to_json();
  j.erase("shards");
  EXPECT_THROW(Manifest::from_json(j, "x"), tessera::Error);
  j = sample().to_json();
  j["format"] = "something-else";
  EXPECT_THROW(Manifest::from_json(j, "x"), tessera::Error);
}

TEST(DocSplit, ValFractionMustBeInZeroOne) {
  EXPECT_NO_THROW(check_val_fraction(0.0));
  EXPECT_NO_THROW(check_val_fraction(0.5));
  for (double bad : {-0.1, 1.0, 1.5, std::nan("")}) {
    try {
      check_val_fraction(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const tessera::Error& e) {
      EXPECT_NE(std::string(e.what()).find("--val-fraction"), std::string::npos);
    }
  }
}

TEST(DocSplit, DecidedByContentAndSeed) {
  const std::string h = tessera::sha256_hex("some document");
  EXPECT_EQ(is_val_document(h, 1, 0.3), is_val_document(h, 1, 0.3));
  EXPECT_FALSE(is_val_document(h, 1, 0.0));
  int val = 0, changed = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const std::string d = tessera::sha256_hex("doc " + std::to_string(i));
    val += is_val_document(d, 7, 0.1);
    changed += is_val_document(d, 7, 0.1) != is_val_document(d, 8, 0.1);
  }
  EXPECT_GT(val, n * 0.08);
  EXPECT_LT(val, n * 0.12);
  EXPECT_GT(changed, 0);  // another seed, another split
}

TEST(DocSplit, DeduplicatorKeepsFirstOccurrence) {
  Deduplicator d;
  const std::string a = tessera::sha256_hex("a"), b = tessera::sha256_hex("b");
  EXPECT_TRUE(d.first_occurrence(a));
  EXPECT_TRUE(d.first_occurrence(b));
  EXPECT_FALSE(d.first_occurrence(a));
  EXPECT_EQ(d.size(), 2u);
}
