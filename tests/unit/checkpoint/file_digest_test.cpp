// The digest file beside a checkpoint (a hash list over byte ranges): its text format, and the
// check of a committed checkpoint against it: a byte flipped in any range, a truncated or extended
// file, a damaged digest file are refused naming the file; a dataset checksum that disagrees with
// the verified bytes is still found.
#include "checkpoint/file_digest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint/checkpoint.h"
#include "checkpoint/digest_check.h"
#include "checkpoint/h5io.h"
#include "checkpoint/verify.h"
#include "core/error.h"
#include "core/sha256.h"
#include "tests/support/ckpt_fixture.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera;
using namespace tessera::checkpoint;
using testing_support::flip_byte;
using testing_support::spit;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}


// The message of check_file_digest on `file` (empty when it passes).
std::string digest_error(const fs::path& file) {
  try {
    check_file_digest(nullptr, file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A committed checkpoint of the fixture's weights and moments, in a fresh directory.
class CommittedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera_file_digest_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    SaveRequest r;
    r.infos = infos_;
    r.params = Holding::whole(w_.data(), static_cast<int64_t>(w_.size()));
    r.m = Holding::whole(m_.data(), static_cast<int64_t>(m_.size()));
    r.v = Holding::whole(v_.data(), static_cast<int64_t>(v_.size()));
    r.meta.config_json = Config().to_json();
    r.meta.config_toml = Config().to_toml();
    r.meta.step = 3;
    file_ = save_checkpoint(parallel::World::init(nullptr, nullptr), parallel::Topology{}, dir_, r);
    bytes_ = read_text(file_);
    digest_ = FileDigest::parse(read_text(digest_path(file_)), "digest");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void restore() { spit(file_, bytes_); }

  std::vector<core::ParamInfo> infos_ = ckpt_fixture::infos();
  std::vector<float> w_ = ckpt_fixture::local_flat(infos_, 0, 1, 0);
  std::vector<float> m_ = ckpt_fixture::local_flat(infos_, 0, 1, 1);
  std::vector<float> v_ = ckpt_fixture::local_flat(infos_, 0, 1, 2);
  fs::path dir_, file_;
  std::string bytes_;
  FileDigest digest_;
};

}  // namespace

TEST(FileDigest, TextRoundTripsAndTheTopCoversEveryRange) {
  FileDigest d{"step-00000001.h5", 30, {{0, 10, sha256_hex("a"), kMetadataLabel}, {10, 20, sha256_hex("b"), "/model/x y"}}};
  const FileDigest back = FileDigest::parse(d.text(), "t");
  EXPECT_EQ(back.text(), d.text());
  EXPECT_EQ(back.ranges[1].label, "/model/x y");
  EXPECT_EQ(back.find(10, 20), &back.ranges[1]);
  EXPECT_EQ(back.find(10, 19), nullptr);
  const std::string top = d.top();
  d.ranges[1].offset = 11;
  EXPECT_NE(d.top(), top);
}

TEST(FileDigest, MalformedDigestFilesAreRejected) {
  const FileDigest d{"f.h5", 30, {{0, 10, sha256_hex("a"), kMetadataLabel}, {10, 20, sha256_hex("b"), "/model/x"}}};
  const std::string good = d.text();
  auto rejects = [](const std::string& text, const std::string& words) {
    try {
      FileDigest::parse(text, "f.h5.sha256");
      ADD_FAILURE() << "accepted:\n" << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("f.h5.sha256"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  rejects("", "empty");
  rejects(sha256_hex("x") + "  f.h5\n", "not a tessera digest file");  // a plain sha256sum line
  rejects("tessera-digest 2 f.h5 30\n", "version 2");
  rejects(good.substr(0, good.rfind("top")), "top digest does not match");
  rejects(good + "extra\n", "after the top digest");
  FileDigest gap = d;
  gap.ranges[1].offset = 11;
  rejects(gap.text(), "does not follow");
  FileDigest short_cover = d;
  short_cover.size = 31;
  rejects(short_cover.text(), "cover 30 of the file's 31 bytes");
  FileDigest bad_hex = d;
  bad_hex.ranges[0].sha256[3] = 'G';
  rejects(bad_hex.text(), "is not a SHA-256 digest");
}

TEST(FileDigest, DigestFileHashesTheGapsBetweenKnownRanges) {
  const fs::path file = fs::temp_directory_path() / ("tessera_digest_gaps_" + std::to_string(::getpid()));
  spit(file, "0123456789abcdefghij");
  const FileDigest d = digest_file(file, "x", {{12, 4, "given", "/d2"}, {2, 5, "given", "/d1"}});
  ASSERT_EQ(d.ranges.size(), 5u);
  const uint64_t offsets[] = {0, 2, 7, 12, 16};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(d.ranges[i].offset, offsets[i]);
  EXPECT_EQ(d.ranges[0].sha256, sha256_hex("01"));
  EXPECT_EQ(d.ranges[1].sha256, "given");  // known digests are taken as they are
  EXPECT_EQ(d.ranges[2].sha256, sha256_hex("789ab"));
  EXPECT_EQ(d.ranges[4].sha256, sha256_hex("ghij"));
  EXPECT_EQ(d.ranges[4].label, kMetadataLabel);
  EXPECT_THROW(digest_file(file, "x", {{2, 5, "a", "/d1"}, {6, 2, "b", "/d2"}}), Error);  // overlap
  EXPECT_THROW(digest_file(file, "x", {{18, 5, "a", "/d1"}}), Error);                     // beyond the end
  fs::remove(file);
}

TEST_F(CommittedCheckpoint, EveryDatasetIsOneRangeWhoseDigestIsItsChecksum) {
  EXPECT_EQ(digest_error(file_), "");
  EXPECT_EQ(digest_.size, bytes_.size());
  EXPECT_EQ(digest_.file_name, file_.filename().string());
  size_t datasets = 0;
  h5::QuietErrors quiet;
  const auto file = h5io::open_file(file_.string(), false, nullptr);
  for (const DigestRange& r : digest_.ranges) {
    if (r.label == kMetadataLabel) continue;
    ++datasets;
    auto dset = h5::checked(H5Dopen2(file.get(), r.label.c_str(), H5P_DEFAULT), H5Dclose, r.label);
    EXPECT_EQ(h5io::read_string_attr(dset.get(), "sha256", r.label), r.sha256) << r.label;
    EXPECT_EQ(h5io::dataset_sha256(dset.get(), r.label), r.sha256) << r.label;
  }
  EXPECT_EQ(datasets, 3 * infos_.size() + 3);  // weights, m, v, /optim/step, /state/loader, /state/rng
}

TEST_F(CommittedCheckpoint, AByteFlippedInAnyRangeIsRefusedNamingTheFileAndTheRange) {
  std::vector<uint64_t> offsets;
  for (const DigestRange& r : digest_.ranges) offsets.push_back(r.offset + r.length / 2);
  offsets.push_back(0);                  // the superblock
  offsets.push_back(bytes_.size() - 1);  // the last byte of the last range
  for (uint64_t at : offsets) {
    flip_byte(file_, at);
    const std::string error = digest_error(file_);
    const auto range = std::find_if(digest_.ranges.begin(), digest_.ranges.end(),
                                    [&](const DigestRange& r) { return at >= r.offset && at < r.offset + r.length; });
    ASSERT_NE(range, digest_.ranges.end());
    EXPECT_NE(error.find(file_.string() + ": the " + std::to_string(range->length) + " bytes at offset " +
                         std::to_string(range->offset) + " (" + range->label + ") do not match"),
              std::string::npos)
        << "byte " << at << ": " << error;
    EXPECT_FALSE(verify_file(file_.string()).ok());
    EXPECT_THROW(load_weights(file_.string(), /*verify=*/false), Error);  // HDF5 never sees it
    restore();
  }
  EXPECT_EQ(digest_error(file_), "");
}

TEST_F(CommittedCheckpoint, TruncatedOrExtendedFilesAreRefused) {
  for (const uint64_t size : {bytes_.size() - 1, bytes_.size() / 2, uint64_t{0}}) {
    fs::resize_file(file_, size);
    const std::string error = digest_error(file_);
    EXPECT_NE(error.find(file_.string() + " has " + std::to_string(size) + " bytes where its digest file"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
    restore();
  }
  std::ofstream(file_, std::ios::binary | std::ios::app) << "x";
  EXPECT_NE(digest_error(file_).find("bytes where its digest file"), std::string::npos);
}

TEST_F(CommittedCheckpoint, ADamagedDigestFileIsRefused) {
  std::string text = read_text(digest_path(file_));
  text[text.find(" 0 ") + 1] = '1';  // the first range's offset
  spit(digest_path(file_), text);
  EXPECT_NE(digest_error(file_).find(digest_path(file_).string()), std::string::npos);
  fs::remove(digest_path(file_));
  EXPECT_EQ(digest_error(file_), "");  // no digest file: passes unchecked (the per-dataset checksums remain)
  EXPECT_TRUE(verify_file(file_.string()).ok());
}

// A dataset whose `sha256` attribute disagrees with its bytes is found even when the file digest
// (recomputed after the change) passes: verification compares the attribute with the range's
// verified digest.
TEST_F(CommittedCheckpoint, AChecksumAttributeThatDisagreesWithTheVerifiedBytesIsFound) {
  const std::string victim = "/optim/m/blocks.0.attn.out.weight";
  {
    h5::QuietErrors quiet;
    auto file = h5io::open_file(file_.string(), true, nullptr);
    auto dset = h5::checked(H5Dopen2(file.get(), victim.c_str(), H5P_DEFAULT), H5Dclose, victim);
    H5Adelete(dset.get(), "sha256");
    h5io::write_attr(dset.get(), "sha256", sha256_hex("not the data"), victim);
  }
  std::vector<DigestRange> datasets;
  for (const DigestRange& r : digest_.ranges) {
    if (r.label != kMetadataLabel) datasets.push_back(r);
  }
  spit(digest_path(file_), digest_file(file_, file_.filename().string(), datasets).text());
  EXPECT_EQ(digest_error(file_), "");
  const VerifyResult r = verify_file(file_.string());
  ASSERT_EQ(r.problems.size(), 1u) << r.summary();
  EXPECT_NE(r.problems[0].find(victim + ": checksum mismatch"), std::string::npos) << r.summary();
}
