// `tessera ckpt import-hf / export-hf / export-gguf` end to end through the checkpoint files: a
// Hugging Face directory imported into a run and exported again gives byte-identical files, the
// run's checkpoint holds the same weights bit for bit, and the run exports to GGUF.
#include <gtest/gtest.h>

#include <cstring>

#include "checkpoint/checkpoint.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer_train.h"
#include "interchange/gguf_reader.h"
#include "interchange/hf_export.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/test_support.h"

namespace tessera::checkpoint {
namespace {

using testing_support::run_command;
using testing_support::slurp;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;

struct Cli : ::testing::TestWithParam<std::string> {};

TEST_P(Cli, ImportExportRoundTrip) {
  TempDir dir;
  datasets::WordCounts counts;
  counts.add_text("a run imported from Hugging Face and exported again, byte for byte.");
  const datasets::Tokenizer tok = datasets::train_bpe(counts, 300);
  const ModelConfig c = testing_support::tiny_model(GetParam(), {.vocab_size = static_cast<int64_t>(tok.vocab_size())});
  core::Transformer m(c);
  m.init_weights(17);
  interchange::export_hf(c, m.params(), &tok, dir.path / "hf");

  auto r = run_command(kBin + " ckpt import-hf " + (dir / "hf") + " " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Weights w = load_weights(dir / "run");
  EXPECT_EQ(w.config.model.family, c.family);
  ASSERT_EQ(w.params.size(), m.params().size());
  for (size_t i = 0; i < w.params.size(); ++i) {
    EXPECT_EQ(w.params.info(i).name, m.params().info(i).name);
    EXPECT_EQ(std::memcmp(w.params.tensor(i).raw(), m.params().tensor(i).raw(), m.params().tensor(i).nbytes()), 0)
        << w.params.info(i).name;
  }
  EXPECT_EQ(w.meta.tokenizer_hash, tok.hash());

  r = run_command(kBin + " ckpt export-hf " + (dir / "run") + " " + (dir / "again"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_EQ(slurp(dir / ("hf/" + std::string(f))), slurp(dir / ("again/" + std::string(f)))) << f;
  }

  r = run_command(kBin + " ckpt export-gguf " + (dir / "run") + " " + (dir / "m.gguf") + " --dtype q8_0");
  ASSERT_EQ(r.status, 0) << r.output;
  const interchange::GgufFile g = interchange::GgufFile::read(dir / "m.gguf");
  EXPECT_EQ(g.at("general.architecture").as_string(), GetParam());
  EXPECT_EQ(g.at("general.file_type").as_uint(), 7u);

  // A second import into the same run is refused; a checkpoint without a tokenizer cannot be a GGUF.
  r = run_command(kBin + " ckpt import-hf " + (dir / "hf") + " " + (dir / "run"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("already holds checkpoints"), std::string::npos) << r.output;
  std::filesystem::remove(dir.path / "hf" / "tokenizer.json");
  ASSERT_EQ(run_command(kBin + " ckpt import-hf " + (dir / "hf") + " " + (dir / "bare")).status, 0);
  r = run_command(kBin + " ckpt export-gguf " + (dir / "bare") + " " + (dir / "x.gguf"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("give --tokenizer FILE"), std::string::npos) << r.output;
  r = run_command(kBin + " ckpt export-gguf " + (dir / "bare") + " " + (dir / "x.gguf") + " --dtype q4");
  EXPECT_NE(r.status, 0);
}

INSTANTIATE_TEST_SUITE_P(Families, Cli, ::testing::Values("gpt2", "llama"), [](const auto& p) { return p.param; });

}  // namespace
}  // namespace tessera::checkpoint
