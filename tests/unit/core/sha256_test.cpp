// SHA-256 against the FIPS 180-2 test vectors, incremental and file digests, ranges of files.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"

namespace tessera {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.update("abcdbcdecdefdefg");
  h.update("efghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
}

TEST(Sha256, FileDigestAndMissingFile) {
  const std::string path = ::testing::TempDir() + "/sha256_test.bin";
  std::string million(1000000, 'a');
  std::ofstream(path, std::ios::binary) << million;
  EXPECT_EQ(sha256_file(path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::remove(path.c_str());
  EXPECT_THROW(sha256_file(path), Error);
}

TEST(Sha256, FileRangesEqualTheDigestsOfTheirBytes) {
  const std::string path = ::testing::TempDir() + "/sha256_ranges_test.bin";
  std::string bytes;
  for (int i = 0; i < 9000000; ++i) bytes.push_back(static_cast<char>(i * 7 + i / 1000));
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(sha256_file_range(path, 0, bytes.size()), sha256_hex(bytes));
  EXPECT_EQ(sha256_file_range(path, 5, 0), sha256_hex(""));
  const std::vector<ByteRange> ranges{{1, 10}, {4000000, 5000000}, {0, 9000000}, {8999999, 1}, {123, 4567}};
  const std::vector<std::string> digests = sha256_file_ranges(path, ranges);
  ASSERT_EQ(digests.size(), ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_EQ(digests[i], sha256_hex(std::string_view(bytes).substr(ranges[i].offset, ranges[i].length))) << i;
  }
  try {
    sha256_file_ranges(path, {{0, 10}, {8999990, 11}});
    FAIL() << "read past the end";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("the file ends first"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(sha256_file_range(path, 0, 1), Error);
}

}  // namespace
}  // namespace tessera
