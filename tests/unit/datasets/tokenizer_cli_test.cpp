// `tessera tokenizer` run as a process: train, encode, decode, convert, and errors exiting non-zero.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
const std::string kData = TESSERA_TEST_DATA;
const std::string kBin = TESSERA_BIN;

struct Run {
  int status;
  std::string output;  // stdout, and stderr when asked for
};

Run run(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class TokenizerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tessera_tokcli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(TokenizerCli, EncodeAndDecodeWithGpt2) {
  const std::string gpt2 = " --gpt2 " + kData + "/gpt2";
  const auto enc = run(kBin + " tokenizer encode" + gpt2 + " < " + write("in.txt", "Hello world"));
  ASSERT_EQ(enc.status, 0) << enc.output;
  EXPECT_EQ(nlohmann::json::parse(enc.output), nlohmann::json::parse("[15496, 995]"));

  const auto dec = run(kBin + " tokenizer decode" + gpt2 + " < " + write("ids.json", "[15496, 995, 50256]"));
  ASSERT_EQ(dec.status, 0) << dec.output;
  EXPECT_EQ(dec.output, "Hello world<|endoftext|>");

  const auto special = run(kBin + " tokenizer encode --special" + gpt2 + " < " + write("s.txt", "a<|endoftext|>"));
  ASSERT_EQ(special.status, 0);
  EXPECT_EQ(nlohmann::json::parse(special.output), nlohmann::json::parse("[64, 50256]"));
}

TEST_F(TokenizerCli, TrainThenRoundTripArbitraryBytes) {
  std::string corpus;
  for (int i = 0; i < 300; ++i) corpus += "the quick brown fox " + std::to_string(i) + " jumps over the lazy dog\n";
  write("corpus.txt", corpus);
  const auto train = run(kBin + " tokenizer train --input " + path("corpus.txt") + " --vocab-size 300 --out " +
                         path("tok.json") + " --hf-out " + path("hf.json") + " 2>&1");
  ASSERT_EQ(train.status, 0) << train.output;
  const auto tok = nlohmann::json::parse(read("tok.json"));
  EXPECT_EQ(tok.at("vocab").size(), 300u);
  EXPECT_EQ(nlohmann::json::parse(read("hf.json")).at("model").at("type"), "BPE");

  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += "the lazy dog \xF0\x9F\x98\x80 \xE2\x82";
  for (const auto* file : {"tok.json", "hf.json"}) {
    const auto enc = run(kBin + " tokenizer encode --tokenizer " + path(file) + " < " + write("b.bin", bytes));
    ASSERT_EQ(enc.status, 0) << enc.output;
    write("b.json", enc.output);
    const auto dec = run(kBin + " tokenizer decode --tokenizer " + path(file) + " < " + path("b.json"));
    ASSERT_EQ(dec.status, 0);
    EXPECT_EQ(dec.output, bytes);
  }
}

TEST_F(TokenizerCli, ConvertGpt2ToHuggingFace) {
  const auto conv = run(kBin + " tokenizer convert --gpt2 " + kData + "/gpt2 --format hf --out " +
                        path("tokenizer.json") + " 2>&1");
  ASSERT_EQ(conv.status, 0) << conv.output;
  const auto enc = run(kBin + " tokenizer encode --tokenizer " + path("tokenizer.json") + " < " +
                       write("in.txt", "Hello world"));
  ASSERT_EQ(enc.status, 0);
  EXPECT_EQ(nlohmann::json::parse(enc.output), nlohmann::json::parse("[15496, 995]"));
}

TEST_F(TokenizerCli, ErrorsExitNonZeroWithAMessage) {
  const std::string gpt2 = " --gpt2 " + kData + "/gpt2";
  const auto bad_json = run(kBin + " tokenizer decode" + gpt2 + " < " + write("bad.json", "[1, 2,") + " 2>&1");
  EXPECT_EQ(bad_json.status, 1);
  EXPECT_NE(bad_json.output.find("not valid JSON"), std::string::npos) << bad_json.output;

  const auto not_ids = run(kBin + " tokenizer decode" + gpt2 + " < " + write("s.json", "[1, \"x\"]") + " 2>&1");
  EXPECT_EQ(not_ids.status, 1);
  EXPECT_NE(not_ids.output.find("element 1"), std::string::npos) << not_ids.output;

  const auto unknown = run(kBin + " tokenizer decode" + gpt2 + " < " + write("u.json", "[99999999]") + " 2>&1");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.output.find("unknown token id 99999999"), std::string::npos) << unknown.output;

  const auto missing = run(kBin + " tokenizer encode --tokenizer " + path("nope.json") + " < /dev/null 2>&1");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("nope.json"), std::string::npos) << missing.output;

  const auto no_source = run(kBin + " tokenizer encode < /dev/null 2>&1");
  EXPECT_EQ(no_source.status, 1);

  const auto small = run(kBin + " tokenizer train --input " + write("c.txt", "abc") + " --vocab-size 100 --out " +
                         path("t.json") + " 2>&1");
  EXPECT_EQ(small.status, 1);
  EXPECT_NE(small.output.find("too small"), std::string::npos) << small.output;
}

TEST_F(TokenizerCli, HelpOnEverySubcommand) {
  for (const auto* sub : {"", " train", " encode", " decode", " convert"}) {
    const auto help = run(kBin + " tokenizer" + sub + " --help");
    EXPECT_EQ(help.status, 0) << sub;
    EXPECT_NE(help.output.find("Usage"), std::string::npos) << sub;
  }
}

}  // namespace
