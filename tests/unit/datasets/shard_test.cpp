// Token shards: round trips, dtype choice, byte-reproducible files, and clear errors for files
// that are missing, not HDF5, truncated, or shaped wrongly.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "datasets/shard.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;
using namespace tessera::testing_support;

namespace {

ShardMeta meta(uint64_t vocab, const std::string& split = "train") { return {vocab, vocab - 1, "abc123", split}; }

}  // namespace

TEST(ShardDtype, NarrowestTypeThatHoldsTheVocabulary) {
  EXPECT_EQ(dtype_for_vocab(256), TokenDtype::U16);
  EXPECT_EQ(dtype_for_vocab(65536), TokenDtype::U16);
  EXPECT_EQ(dtype_for_vocab(65537), TokenDtype::U32);
  EXPECT_EQ(dtype_for_vocab(uint64_t{1} << 32), TokenDtype::U32);
  const std::string msg = error_of([] { dtype_for_vocab((uint64_t{1} << 32) + 1); });
  EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
  EXPECT_EQ(dtype_name(TokenDtype::U16), "uint16");
  EXPECT_EQ(dtype_name(TokenDtype::U32), "uint32");
}

TEST(ShardName, SplitAndFiveDigitIndex) {
  EXPECT_EQ(shard_name("train", 0), "train_00000.h5");
  EXPECT_EQ(shard_name("val", 42), "val_00042.h5");
}

TEST(Shard, RoundTripUint16) {
  TempDir dir;
  const std::vector<TokenId> tokens = {5, 6, 7, 999, 8, 999, 65535, 1, 999};
  const std::vector<int64_t> offsets = {0, 4, 6};
  write_shard(dir / "a.h5", {65536, 999, "hash-1", "val"}, tokens, offsets);
  ShardReader r(dir / "a.h5");
  EXPECT_EQ(r.dtype(), TokenDtype::U16);
  EXPECT_EQ(r.num_tokens(), tokens.size());
  EXPECT_EQ(r.num_documents(), 3u);
  EXPECT_EQ(r.meta().vocab_size, 65536u);
  EXPECT_EQ(r.meta().eot_id, 999u);
  EXPECT_EQ(r.meta().tokenizer_hash, "hash-1");
  EXPECT_EQ(r.meta().split, "val");
  EXPECT_EQ(r.read_all_tokens(), std::vector<int32_t>(tokens.begin(), tokens.end()));
  EXPECT_EQ(r.read_doc_offsets(), offsets);
  std::vector<int32_t> part(3);
  r.read_tokens(5, 3, part.data());
  EXPECT_EQ(part, (std::vector<int32_t>{999, 65535, 1}));
  EXPECT_THROW(r.read_tokens(7, 3, part.data()), tessera::Error);
}

TEST(Shard, LineageRoundTripsAndIsEmptyWhenNotWritten) {
  TempDir dir;
  const std::vector<TokenId> tokens = {1, 2, 3};
  const std::vector<int64_t> offsets = {0};
  ShardMeta m = meta(10);
  // Longer than the 64 KiB an HDF5 compact attribute may hold: lineage is a dataset.
  m.lineage = "{\"sources\": [\"" + std::string(100000, 'x') + "\"]}";
  write_shard(dir / "lineage.h5", m, tokens, offsets);
  EXPECT_EQ(ShardReader(dir / "lineage.h5").meta().lineage, m.lineage);
  write_shard(dir / "plain.h5", meta(10), tokens, offsets);
  EXPECT_EQ(ShardReader(dir / "plain.h5").meta().lineage, "");
}

TEST(Shard, RoundTripUint32KeepsLargeIds) {
  TempDir dir;
  std::vector<TokenId> tokens(300000);  // more than one chunk
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<TokenId>(i % 100000);
  write_shard(dir / "b.h5", meta(100000), tokens, std::vector<int64_t>{0});
  ShardReader r(dir / "b.h5");
  EXPECT_EQ(r.dtype(), TokenDtype::U32);
  const auto back = r.read_all_tokens();
  ASSERT_EQ(back.size(), tokens.size());
  EXPECT_EQ(back[70000], 70000);
  EXPECT_EQ(back[299999], 99999);
}

TEST(Shard, DocumentMayContinueFromThePreviousShard) {
  TempDir dir;
  write_shard(dir / "c.h5", meta(100), std::vector<TokenId>{1, 2, 99, 3, 99}, std::vector<int64_t>{3});
  write_shard(dir / "d.h5", meta(100), std::vector<TokenId>{1, 2}, std::vector<int64_t>{});
  EXPECT_EQ(ShardReader(dir / "c.h5").read_doc_offsets(), std::vector<int64_t>{3});
  EXPECT_EQ(ShardReader(dir / "d.h5").num_documents(), 0u);
}

TEST(Shard, SameContentGivesTheSameBytes) {
  TempDir dir;
  const std::vector<TokenId> tokens = {1, 2, 3, 4, 99};
  write_shard(dir / "x.h5", meta(100), tokens, std::vector<int64_t>{0});
  write_shard(dir / "y.h5", meta(100), tokens, std::vector<int64_t>{0});
  const std::string x = slurp(dir / "x.h5");
  EXPECT_FALSE(x.empty());
  EXPECT_EQ(x, slurp(dir / "y.h5"));
}

TEST(Shard, WriterRejectsBadInput) {
  TempDir dir;
  EXPECT_NE(error_of([&] { write_shard(dir / "e.h5", meta(100), std::vector<TokenId>{}, std::vector<int64_t>{}); })
                .find("no tokens"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              write_shard(dir / "e.h5", meta(100), std::vector<TokenId>{1, 100}, std::vector<int64_t>{0});
            }).find("outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              write_shard(dir / "e.h5", meta(100), std::vector<TokenId>{1, 2}, std::vector<int64_t>{1, 1});
            }).find("ascend"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              write_shard(dir / "e.h5", meta((uint64_t{1} << 32) + 7), std::vector<TokenId>{1},
                          std::vector<int64_t>{0});
            }).find("does not fit"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              write_shard((dir / "no-such-dir") + "/e.h5", meta(100), std::vector<TokenId>{1}, std::vector<int64_t>{0});
            }).find("cannot create"),
            std::string::npos);
}

TEST(ShardReader, MissingFile) {
  TempDir dir;
  const std::string msg = error_of([&] { ShardReader r(dir / "missing.h5"); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing.h5"), std::string::npos) << msg;
}

TEST(ShardReader, NotAnHdf5File) {
  TempDir dir;
  spit(dir / "text.h5", "just some text, not HDF5\n");
  const std::string msg = error_of([&] { ShardReader r(dir / "text.h5"); });
  EXPECT_NE(msg.find("not an HDF5 file"), std::string::npos) << msg;
}

TEST(ShardReader, TruncatedFile) {
  TempDir dir;
  std::vector<TokenId> tokens(100000, 7);
  write_shard(dir / "full.h5", meta(100), tokens, std::vector<int64_t>{0});
  const std::string bytes = slurp(dir / "full.h5");
  spit(dir / "cut.h5", bytes.substr(0, bytes.size() / 2));
  const std::string msg = error_of([&] {
    ShardReader r(dir / "cut.h5");
    r.read_all_tokens();
  });
  EXPECT_NE(msg.find("cut.h5"), std::string::npos) << msg;
}

// The malformed files below are made with the HDF5 command-line tools (hdf5-tools).
TEST(ShardReader, MissingDataset) {
  if (std::system("command -v h5copy >/dev/null 2>&1") != 0) GTEST_SKIP() << "h5copy (hdf5-tools) not installed";
  TempDir dir;
  write_shard(dir / "good.h5", meta(100), std::vector<TokenId>{1, 2, 99}, std::vector<int64_t>{0});
  const std::string cmd = "h5copy -i " + (dir / "good.h5") + " -o " + (dir / "partial.h5") + " -s /tokens -d /tokens";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string msg = error_of([&] { ShardReader r(dir / "partial.h5"); });
  EXPECT_NE(msg.find("/doc_offsets is missing"), std::string::npos) << msg;
}

TEST(ShardReader, WrongDtype) {
  if (std::system("command -v h5import >/dev/null 2>&1") != 0) GTEST_SKIP() << "h5import (hdf5-tools) not installed";
  TempDir dir;
  spit(dir / "values.txt", "1.5 2.5 3.5\n");
  spit(dir / "import.cfg",
       "PATH tokens\nINPUT-CLASS TEXTFP\nRANK 1\nDIMENSION-SIZES 3\nOUTPUT-CLASS FP\nOUTPUT-SIZE 32\n");
  const std::string cmd = "h5import " + (dir / "values.txt") + " -c " + (dir / "import.cfg") + " -o " +
                          (dir / "float.h5") + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string msg = error_of([&] { ShardReader r(dir / "float.h5"); });
  EXPECT_NE(msg.find("wrong dtype"), std::string::npos) << msg;
}
