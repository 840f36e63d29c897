// `tessera tokenizer` run as a process: train, encode, decode, convert, and errors exiting non-zero.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/test_support.h"

namespace {

using namespace tessera::testing_support;

const std::string kData = TESSERA_TEST_DATA;
const std::string kBin = TESSERA_BIN;

// A scratch directory per test.
class TokenizerCli : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) const { return dir_.write(name, bytes); }
  std::string read(const std::string& name) const { return slurp(dir_ / name); }
  std::string path(const std::string& name) const { return dir_ / name; }
  TempDir dir_;
};

TEST_F(TokenizerCli, EncodeAndDecodeWithGpt2) {
  const std::string gpt2 = " --gpt2 " + kData + "/gpt2";
  const auto enc =
      run_command(kBin + " tokenizer encode" + gpt2 + " < " + write("in.txt", "Hello world"), Capture::StdoutOnly);
  ASSERT_EQ(enc.status, 0) << enc.output;
  EXPECT_EQ(nlohmann::json::parse(enc.output), nlohmann::json::parse("[15496, 995]"));

  const auto dec = run_command(kBin + " tokenizer decode" + gpt2 + " < " + write("ids.json", "[15496, 995, 50256]"),
                               Capture::StdoutOnly);
  ASSERT_EQ(dec.status, 0) << dec.output;
  EXPECT_EQ(dec.output, "Hello world<|endoftext|>");

  const auto special = run_command(kBin + " tokenizer encode --special" + gpt2 + " < " + write("s.txt", "a<|endoftext|>"),
                                   Capture::StdoutOnly);
  ASSERT_EQ(special.status, 0);
  EXPECT_EQ(nlohmann::json::parse(special.output), nlohmann::json::parse("[64, 50256]"));
}

TEST_F(TokenizerCli, TrainThenRoundTripArbitraryBytes) {
  std::string corpus;
  for (int i = 0; i < 300; ++i) corpus += "the quick brown fox " + std::to_string(i) + " jumps over the lazy dog\n";
  write("corpus.txt", corpus);
  const auto train = run_command(kBin + " tokenizer train --input " + path("corpus.txt") + " --vocab-size 300 --out " +
                                 path("tok.json") + " --hf-out " + path("hf.json"));
  ASSERT_EQ(train.status, 0) << train.output;
  const auto tok = nlohmann::json::parse(read("tok.json"));
  EXPECT_EQ(tok.at("vocab").size(), 300u);
  EXPECT_EQ(nlohmann::json::parse(read("hf.json")).at("model").at("type"), "BPE");

  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += "the lazy dog \xF0\x9F\x98\x80 \xE2\x82";
  for (const auto* file : {"tok.json", "hf.json"}) {
    const auto enc = run_command(kBin + " tokenizer encode --tokenizer " + path(file) + " < " + write("b.bin", bytes),
                                 Capture::StdoutOnly);
    ASSERT_EQ(enc.status, 0) << enc.output;
    write("b.json", enc.output);
    const auto dec =
        run_command(kBin + " tokenizer decode --tokenizer " + path(file) + " < " + path("b.json"), Capture::StdoutOnly);
    ASSERT_EQ(dec.status, 0);
    EXPECT_EQ(dec.output, bytes);
  }
}

TEST_F(TokenizerCli, ConvertGpt2ToHuggingFace) {
  const auto conv =
      run_command(kBin + " tokenizer convert --gpt2 " + kData + "/gpt2 --format hf --out " + path("tokenizer.json"));
  ASSERT_EQ(conv.status, 0) << conv.output;
  const auto enc = run_command(
      kBin + " tokenizer encode --tokenizer " + path("tokenizer.json") + " < " + write("in.txt", "Hello world"),
      Capture::StdoutOnly);
  ASSERT_EQ(enc.status, 0);
  EXPECT_EQ(nlohmann::json::parse(enc.output), nlohmann::json::parse("[15496, 995]"));
}

TEST_F(TokenizerCli, ErrorsExitNonZeroWithAMessage) {
  const std::string gpt2 = " --gpt2 " + kData + "/gpt2";
  const auto bad_json = run_command(kBin + " tokenizer decode" + gpt2 + " < " + write("bad.json", "[1, 2,"));
  EXPECT_EQ(bad_json.status, 1);
  EXPECT_NE(bad_json.output.find("not valid JSON"), std::string::npos) << bad_json.output;

  const auto not_ids = run_command(kBin + " tokenizer decode" + gpt2 + " < " + write("s.json", "[1, \"x\"]"));
  EXPECT_EQ(not_ids.status, 1);
  EXPECT_NE(not_ids.output.find("element 1"), std::string::npos) << not_ids.output;

  const auto unknown = run_command(kBin + " tokenizer decode" + gpt2 + " < " + write("u.json", "[99999999]"));
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.output.find("unknown token id 99999999"), std::string::npos) << unknown.output;

  const auto missing = run_command(kBin + " tokenizer encode --tokenizer " + path("nope.json") + " < /dev/null");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("nope.json"), std::string::npos) << missing.output;

  const auto no_source = run_command(kBin + " tokenizer encode < /dev/null");
  EXPECT_EQ(no_source.status, 1);

  const auto small = run_command(kBin + " tokenizer train --input " + write("c.txt", "abc") +
                                 " --vocab-size 100 --out " + path("t.json"));
  EXPECT_EQ(small.status, 1);
  EXPECT_NE(small.output.find("too small"), std::string::npos) << small.output;
}

TEST_F(TokenizerCli, HelpOnEverySubcommand) {
  for (const auto* sub : {"", " train", " encode", " decode", " convert"}) {
    const auto help = run_command(kBin + " tokenizer" + sub + " --help", Capture::StdoutOnly);
    EXPECT_EQ(help.status, 0) << sub;
    EXPECT_NE(help.output.find("Usage"), std::string::npos) << sub;
  }
}

}  // namespace
