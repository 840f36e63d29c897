// Where a model's data came from, end to end through the real binary: prepare with PII masking,
// train a tiny model, and the checkpoint carries the manifest's SHA-256; `tessera ckpt show` finds
// that manifest (the run's copy, or the data directory) and prints its sources, filters and
// counts, and says so when no manifest with that hash is left.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "checkpoint/reader.h"
#include "checkpoint/reference.h"
#include "core/sha256.h"
#include "tests/unit/test_support.h"

namespace tessera {
namespace {

using testing_support::CommandResult;
using testing_support::run_command;
using testing_support::TempDir;
namespace fs = std::filesystem;

const std::string kBin = TESSERA_BIN;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(DataLineageCli, CheckpointNamesItsManifestAndShowPrintsTheSources) {
  TempDir dir;
  const std::string corpus = std::string(TESSERA_TEST_DATA) + "/corpus";
  const std::string pii = dir.write("contacts.txt", "Write to ops@example.org or call 555-123-4567 any time.\n");
  CommandResult r = run_command(kBin + " prepare --input " + corpus + " " + pii + " --out " + (dir / "data") +
                                " --train-tokenizer --vocab-size 300 --val-fraction 0.3 --mask-pii");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string manifest_sha = sha256_file(dir / "data/manifest.json");
  const std::string config = dir.write(
      "run.toml", "[model]\nn_layer = 1\nd_model = 16\nn_head = 2\nseq_len = 8\nvocab_size = 300\n[data]\ndir = \"" +
                      (dir / "data") + "\"\n[train]\nbatch_size = 2\nsteps = 2\neval_interval = 0\n");
  r = run_command(kBin + " train --config " + config + " --run-dir " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.output;

  const auto header = checkpoint::read_header(checkpoint::resolve(dir / "run").string());
  EXPECT_EQ(header.meta.data_manifest_sha256, manifest_sha);
  EXPECT_EQ(sha256_file(dir / "run/data_manifest.json"), manifest_sha);

  r = run_command(kBin + " ckpt show " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "data manifest:    sha256 " + manifest_sha + " (" + (dir / "run/data_manifest.json")))
      << r.output;
  EXPECT_TRUE(contains(r.output, "sources: 4 files")) << r.output;
  EXPECT_TRUE(contains(r.output, pii + "  56 bytes  text  sha256 " + sha256_file(pii) + "  1 of 1 documents kept")) << r.output;
  EXPECT_TRUE(contains(r.output, "filters: mask PII on; min chars 0; max non-text 1; dedup exact-normalised; "
                                 "near dedup off"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "PII masked: card 0, email 1, ipv4 0, ipv6 0, phone 1")) << r.output;

  // Without the run's copy the data directory's manifest is found; when it is prepared again
  // (another hash), show says that no manifest matches.
  fs::remove(dir / "run/data_manifest.json");
  r = run_command(kBin + " ckpt show " + (dir / "run"));
  EXPECT_TRUE(contains(r.output, "sha256 " + manifest_sha + " (" + (dir / "data/manifest.json") + ")")) << r.output;
  r = run_command(kBin + " prepare --input " + corpus + " --out " + (dir / "data") +
                  " --train-tokenizer --vocab-size 300 --val-fraction 0.3");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(kBin + " ckpt show " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "sha256 " + manifest_sha + " (no matching manifest at")) << r.output;
}

}  // namespace
}  // namespace tessera
