// Tokenizer files: Tessera's JSON, GPT-2's encoder.json + vocab.bpe, Hugging Face tokenizer.json;
// round trips between them and the errors for bad files.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_train.h"
#include "tests/unit/test_support.h"

namespace tessera::datasets {
namespace {

using namespace testing_support;

const std::string kData = TESSERA_TEST_DATA;

const Tokenizer& gpt2() {
  static const Tokenizer tok = Tokenizer::load_gpt2(kData + "/gpt2/encoder.json", kData + "/gpt2/vocab.bpe");
  return tok;
}

std::vector<std::string> golden_texts() {
  const auto golden = nlohmann::json::parse(slurp(kData + "/tokenizer/gpt2_golden.json"));
  std::vector<std::string> out;
  for (const auto& c : golden.at("cases")) out.push_back(c.at("text").get<std::string>());
  out.push_back(std::string("bytes \xFF\xFE\x80 and \0 nul", 22));
  return out;
}

Tokenizer small_trained() {
  WordCounts counts;
  for (const auto& t : golden_texts()) counts.add_text(t);
  return train_bpe(counts, 600, {"<|endoftext|>", "<|pad|>"});
}

// A scratch folder per test, removed afterwards.
class TokenizerFiles : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_ / name; }
  std::string write(const std::string& name, const std::string& text) const { return dir_.write(name, text); }
  TempDir dir_;
};

// A Hugging Face tokenizer.json assembled directly from GPT-2's files, as Hugging Face publishes it.
nlohmann::json hf_from_gpt2_files(bool merges_as_pairs) {
  nlohmann::json j;
  j["version"] = "1.0";
  j["added_tokens"] = nlohmann::json::array({{{"id", 50256}, {"content", "<|endoftext|>"}, {"single_word", false},
                                              {"lstrip", false}, {"rstrip", false}, {"normalized", true},
                                              {"special", true}}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  nlohmann::json merges = nlohmann::json::array();
  std::istringstream bpe(slurp(kData + "/gpt2/vocab.bpe"));
  std::string line;
  std::getline(bpe, line);  // "#version: 0.2"
  while (std::getline(bpe, line)) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    if (merges_as_pairs) {
      merges.push_back({line.substr(0, space), line.substr(space + 1)});
    } else {
      merges.push_back(line);
    }
  }
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"vocab", nlohmann::json::parse(slurp(kData + "/gpt2/encoder.json"))}, {"merges", merges}};
  return j;
}

TEST_F(TokenizerFiles, TrainedTokenizerSaveLoadReproducesItself) {
  const Tokenizer tok = small_trained();
  ASSERT_EQ(tok.vocab_size(), 600u);
  tok.save(path("tok.json"));
  const Tokenizer back = Tokenizer::load(path("tok.json"));
  EXPECT_EQ(back.to_json(), tok.to_json());
  EXPECT_EQ(slurp(path("tok.json")), tok.to_json());
  EXPECT_EQ(back.hash(), tok.hash());
  EXPECT_EQ(tok.hash().size(), 64u);
  EXPECT_EQ(back.special_id("<|pad|>"), tok.special_id("<|pad|>"));
  for (const auto& t : golden_texts()) {
    EXPECT_EQ(back.encode(t), tok.encode(t));
    EXPECT_EQ(back.decode(back.encode(t)), t);
  }
  EXPECT_NE(tok.hash(), gpt2().hash());
}

TEST_F(TokenizerFiles, Gpt2ThroughOwnJsonIsUnchanged) {
  const Tokenizer back = Tokenizer::from_json(gpt2().to_json(), "memory");
  EXPECT_EQ(back.to_json(), gpt2().to_json());
  EXPECT_EQ(back.eot_id(), 50256u);
  EXPECT_EQ(back.encode("Hello world"), (std::vector<TokenId>{15496, 995}));
}

TEST_F(TokenizerFiles, HuggingFaceJsonFromGpt2FilesEncodesLikeGpt2) {
  for (const bool pairs : {false, true}) {
    const std::string file = write("tokenizer.json", hf_from_gpt2_files(pairs).dump());
    const Tokenizer hf = Tokenizer::load(file);
    EXPECT_EQ(hf.vocab_size(), gpt2().vocab_size());
    EXPECT_EQ(hf.eot_id(), 50256u);
    EXPECT_EQ(hf.hash(), gpt2().hash());  // the same tokenizer, whatever file it came from
    for (const auto& t : golden_texts()) EXPECT_EQ(hf.encode(t), gpt2().encode(t));
  }
}

TEST_F(TokenizerFiles, SaveHfThenLoadRoundTrips) {
  for (const Tokenizer& tok : {gpt2(), small_trained()}) {
    tok.save_hf(path("tokenizer.json"));
    const auto j = nlohmann::json::parse(slurp(path("tokenizer.json")));
    EXPECT_EQ(j.at("model").at("type"), "BPE");
    EXPECT_EQ(j.at("pre_tokenizer").at("type"), "ByteLevel");
    EXPECT_EQ(j.at("decoder").at("type"), "ByteLevel");
    EXPECT_EQ(j.at("model").at("vocab").size(), tok.vocab_size());
    EXPECT_EQ(j.at("added_tokens").size(), tok.parts().specials.size());
    const Tokenizer back = Tokenizer::load(path("tokenizer.json"));
    EXPECT_EQ(back.to_json(), tok.to_json());
    for (const auto& t : golden_texts()) EXPECT_EQ(back.encode(t), tok.encode(t));
  }
  EXPECT_EQ(nlohmann::json::parse(gpt2().to_hf_json()).at("model").at("vocab").at("Ġthe"), 262);
}

TEST_F(TokenizerFiles, HfSpecialTokenWithASpaceKeepsItsId) {
  auto parts = small_trained().parts();
  parts.tokens.push_back("<|im start|>");
  parts.specials.push_back(static_cast<TokenId>(parts.tokens.size() - 1));
  const Tokenizer tok = Tokenizer::from_parts(parts, "test");
  const auto j = nlohmann::json::parse(tok.to_hf_json());
  EXPECT_EQ(j.at("model").at("vocab").at("<|im start|>"), tok.vocab_size() - 1);  // raw text, as HF looks it up
  const Tokenizer back = Tokenizer::from_hf_json(tok.to_hf_json(), "memory");
  EXPECT_EQ(back.special_id("<|im start|>"), tok.vocab_size() - 1);
  const auto im_start = static_cast<TokenId>(tok.vocab_size() - 1);
  EXPECT_EQ(back.encode_with_special("a<|im start|>b"), (std::vector<TokenId>{'a', im_start, 'b'}));
}

TEST_F(TokenizerFiles, MissingAndUnreadableFiles) {
  EXPECT_NE(error_of([&] { Tokenizer::load(path("nope.json")); }).find("nope.json"), std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load(dir_.path.string()); }).find("directory"), std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load_gpt2(path("encoder.json"), path("vocab.bpe")); }).find("encoder.json"),
            std::string::npos);
  const std::string enc = kData + "/gpt2/encoder.json";
  EXPECT_NE(error_of([&] { Tokenizer::load_gpt2(enc, path("vocab.bpe")); }).find("vocab.bpe"), std::string::npos);
}

TEST_F(TokenizerFiles, MalformedJson) {
  const auto msg = error_of([&] { Tokenizer::load(write("bad.json", "{\"format\": ")); });
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { Tokenizer::load(write("empty.json", "")); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load(write("arr.json", "[1, 2]")); }).find("neither"), std::string::npos);
}

TEST_F(TokenizerFiles, OwnFormatErrors) {
  auto j = nlohmann::json::parse(small_trained().to_json());
  const auto load_modified = [&](const std::function<void(nlohmann::json&)>& change) {
    auto copy = j;
    change(copy);
    return error_of([&] { Tokenizer::load(write("t.json", copy.dump())); });
  };
  EXPECT_NE(load_modified([](auto& x) { x["version"] = 99; }).find("version 99"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["version"] = "1"; }).find("\"version\" must be an integer"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["vocab"] = "abc"; }).find("\"vocab\" must be an array"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x.erase("merges"); }).find("missing \"merges\""), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["vocab"][3] = 7; }).find("vocab entry 3 must be a string"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["merges"][0] = {"a", "zzz-not-a-token"}; }).find("not in the vocabulary"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["merges"][0] = "a b"; }).find("merge 0 must be a pair"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["vocab"][5] = x["vocab"][6]; }).find("appears twice"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["vocab"].erase(x["vocab"].begin() + 1); }).find("no token for byte 0x01"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["vocab"][300] = "a b"; }).find("byte-unicode"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["special_tokens"] = {"<|nope|>"}; }).find("not in the vocabulary"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["pre_tokenizer"] = "llama3"; }).find("not supported"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["merges"].push_back(x["merges"][0]); }).find("listed twice"),
            std::string::npos);
  // A merge whose result is not in the vocabulary.
  EXPECT_NE(load_modified([](auto& x) { x["merges"].push_back({"Q", "Z"}); }).find("not an ordinary token"),
            std::string::npos);
}

TEST_F(TokenizerFiles, Gpt2FormatErrors) {
  const std::string enc = kData + "/gpt2/encoder.json";
  const auto msg = error_of([&] { Tokenizer::load_gpt2(enc, write("vocab.bpe", "#version: 0.2\nĠ t\nbad\n")); });
  EXPECT_NE(msg.find("vocab.bpe:3"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { Tokenizer::load_gpt2(enc, write("v2.bpe", "#version: 0.2\nĠ qqqqqqqq\n")); })
                .find("not in the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load_gpt2(write("e.json", "{\"a\": -1}"), kData + "/gpt2/vocab.bpe"); })
                .find("non-negative integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load_gpt2(write("e2.json", "{\"a\": 0, \"b\": 2}"), kData + "/gpt2/vocab.bpe"); })
                .find("no token has id 1"),
            std::string::npos);
}

TEST_F(TokenizerFiles, HfFormatErrors) {
  const auto base = nlohmann::json::parse(small_trained().to_hf_json());
  const auto load_modified = [&](const std::function<void(nlohmann::json&)>& change) {
    auto copy = base;
    change(copy);
    return error_of([&] { Tokenizer::load(write("tokenizer.json", copy.dump())); });
  };
  EXPECT_NE(load_modified([](auto& x) { x["model"]["type"] = "WordPiece"; }).find("only BPE"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["normalizer"] = {{"type", "NFC"}}; }).find("normalizer"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["pre_tokenizer"]["add_prefix_space"] = true; }).find("add_prefix_space"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["pre_tokenizer"] = {{"type", "Whitespace"}}; }).find("only ByteLevel"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["model"]["vocab"] = nlohmann::json::array(); }).find("must be an object"),
            std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["model"]["merges"][0] = "nospace"; }).find("merge 0"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["model"]["merges"][0] = 5; }).find("merge 0"), std::string::npos);
  EXPECT_NE(load_modified([](auto& x) { x["added_tokens"][0]["id"] = 3; }).find("added token"), std::string::npos);
}

}  // namespace
}  // namespace tessera::datasets
