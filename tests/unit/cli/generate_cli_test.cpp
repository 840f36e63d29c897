// `tessera generate` on the serving engine through the built binary: a streamed --prompt, option
// validation, the run directory's tokenizer, and an offline JSONL batch with bad lines and a
// resume that skips what is done.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/test_support.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing_support::run_command;
using testing_support::slurp;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;
const std::string kTiny = std::string(TESSERA_TEST_DATA) + "/configs/tiny.toml";
const std::string kText = std::string(TESSERA_TEST_DATA) + "/corpus/notes.txt";

// One tiny trained model (vocabulary 320 over a 300-token tokenizer) for the whole suite.
class GenerateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto tok = run_command(kBin + " tokenizer train --input " + kText + " --vocab-size 300 --out " +
                                 (*dir_ / "tok.json"));
    ASSERT_EQ(tok.status, 0) << tok.output;
    const auto train = run_command(kBin + " train --config " + kTiny + " --run-dir " + (*dir_ / "run") +
                                   " --set train.steps=3 --set model.vocab_size=320 --set model.seq_len=32");
    ASSERT_EQ(train.status, 0) << train.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string generate(const std::string& args) {
    return kBin + " generate --ckpt " + (*dir_ / "run") + " --tokenizer " + (*dir_ / "tok.json") + " " + args;
  }
  static TempDir* dir_;
};
TempDir* GenerateCli::dir_ = nullptr;

std::vector<nlohmann::json> jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST_F(GenerateCli, PromptIsContinuedReproduciblyAndBadOptionsAreErrors) {
  const auto a = run_command(generate("--prompt 'The note' --max-tokens 8"), testing_support::Capture::StdoutOnly);
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_EQ(a.output.rfind("The note", 0), 0u) << a.output;
  EXPECT_GT(a.output.size(), std::string("The note\n").size());
  const auto b = run_command(generate("--prompt 'The note' --max-tokens 8"), testing_support::Capture::StdoutOnly);
  EXPECT_EQ(a.output, b.output);
  const auto seeded = generate("--prompt 'The note' --max-tokens 8 --temperature 1.5 --top-p 0.9 --seed 3");
  EXPECT_EQ(run_command(seeded).output, run_command(seeded).output);
  // A bf16 KV cache continues the prompt too.
  const auto bf16 = run_command(generate("--prompt 'The note' --max-tokens 8 --kv-cache-dtype bf16"),
                                testing_support::Capture::StdoutOnly);
  ASSERT_EQ(bf16.status, 0) << bf16.output;
  EXPECT_EQ(bf16.output.rfind("The note", 0), 0u) << bf16.output;

  for (const auto& [flag, name] : std::vector<std::pair<std::string, std::string>>{
           {"--max-tokens -1", "max_tokens"}, {"--max-tokens 0", "max_tokens"}, {"--temperature -0.5", "temperature"},
           {"--top-k -2", "top_k"}, {"--top-p 0", "top_p"}, {"--kv-cache-dtype fp8", "auto, f32 or bf16"}}) {
    const auto r = run_command(generate("--prompt hi " + flag));
    EXPECT_NE(r.status, 0) << flag;
    EXPECT_NE(r.output.find(name), std::string::npos) << flag << ": " << r.output;
  }
  const auto long_prompt = run_command(generate("--prompt \"$(head -c 600 " + kText + ")\""));
  EXPECT_NE(long_prompt.status, 0);
  EXPECT_NE(long_prompt.output.find("context of 32"), std::string::npos) << long_prompt.output;
}

TEST_F(GenerateCli, BadInputsAreClearErrors) {
  const auto no_model = run_command(kBin + " generate --ckpt /nonexistent/run --prompt hi");
  EXPECT_NE(no_model.status, 0);
  EXPECT_NE(no_model.output.find("is not a checkpoint file"), std::string::npos) << no_model.output;
  const auto no_input = run_command(generate("--input /nonexistent/in.jsonl --output " + (*dir_ / "never.jsonl")));
  EXPECT_NE(no_input.status, 0);
  EXPECT_NE(no_input.output.find("cannot read the batch input"), std::string::npos) << no_input.output;
  EXPECT_FALSE(fs::exists(*dir_ / "never.jsonl"));
  const auto neither = run_command(generate(""));
  EXPECT_NE(neither.status, 0);
  EXPECT_NE(neither.output.find("--prompt TEXT or --input FILE"), std::string::npos) << neither.output;
}

// The checkpoint exported as GGUF (f32, q8_0) and as a Hugging Face folder, served with --model:
// f32 and the folder print exactly what --ckpt prints; q8_0 serves the same prompt too.
TEST_F(GenerateCli, ModelFilesServeAsTheirCheckpoint) {
  const std::string run = *dir_ / "run", tok = *dir_ / "tok.json", args = " --prompt 'The note' --max-tokens 8";
  const auto ckpt = run_command(generate(args), testing_support::Capture::StdoutOnly);
  ASSERT_EQ(ckpt.status, 0) << ckpt.output;
  TempDir out;
  for (const std::string dtype : {"f32", "q8_0"}) {
    const auto e = run_command(kBin + " ckpt export-gguf " + run + " " + (out / (dtype + ".gguf")) + " --dtype " +
                               dtype + " --tokenizer " + tok);
    ASSERT_EQ(e.status, 0) << e.output;
  }
  const auto hf = run_command(kBin + " ckpt export-hf " + run + " " + (out / "hf") + " --tokenizer " + tok);
  ASSERT_EQ(hf.status, 0) << hf.output;
  for (const std::string& model : {out / "f32.gguf", out / "hf"}) {
    const auto r = run_command(kBin + " generate --model " + model + args, testing_support::Capture::StdoutOnly);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, ckpt.output) << model;
  }
  const auto q8 = run_command(kBin + " generate --model " + (out / "q8_0.gguf") + args,
                              testing_support::Capture::StdoutOnly);
  EXPECT_EQ(q8.status, 0) << q8.output;
  EXPECT_EQ(q8.output.rfind("The note", 0), 0u) << q8.output;
  const auto bench = run_command(kBin + " bench decode --model " + (out / "q8_0.gguf") +
                                 " --batch 1,2 --prompt-len 4 --gen-len 2");
  EXPECT_EQ(bench.status, 0) << bench.output;
  EXPECT_NE(bench.output.find("batch=2 prompt_tok_s="), std::string::npos) << bench.output;
}

TEST_F(GenerateCli, BadModelFilesAreClearErrors) {
  TempDir out;
  const auto e = run_command(kBin + " ckpt export-gguf " + (*dir_ / "run") + " " + (out / "m.gguf") +
                             " --tokenizer " + (*dir_ / "tok.json"));
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string bytes = slurp(out / "m.gguf");
  const std::string cut = out.write("cut.gguf", bytes.substr(0, bytes.size() * 2 / 3));
  std::string q4 = bytes;
  // The first tensor's type field: its name ("token_embd.weight", u64 length first), 2 dims.
  const size_t at = q4.find("token_embd.weight") + std::string("token_embd.weight").size() + 4 + 2 * 8;
  q4[at] = 2;  // ggml's q4_0
  const std::string gptj_bytes = [&] {
    std::string b = bytes;
    const size_t arch = b.find("gpt2", b.find("general.architecture"));
    return b.replace(arch, 4, "gptj");
  }();
  const std::string not_gguf = out.write("notes.gguf", "just some text\n");
  for (const auto& [model, message] : std::vector<std::pair<std::string, std::string>>{
           {"/nonexistent/model.gguf", "no such file or directory"},
           {cut, "beyond the end"},
           {out.write("q4.gguf", q4), "has ggml type 2"},
           {out.write("gptj.gguf", gptj_bytes), "general.architecture: unknown model family \"gptj\" (known: gpt2, llama)"},
           {not_gguf, "is not a GGUF file"},
           {*dir_ / "run", "give it as --ckpt"},
           {out.path.string(), "without config.json"}}) {
    const auto r = run_command(kBin + " generate --model " + model + " --prompt hi");
    EXPECT_EQ(r.status, 1) << model << ": " << r.output;  // an error, not a crash
    EXPECT_NE(r.output.find(message), std::string::npos) << model << ": " << r.output;
  }
  const auto both = run_command(generate("--model " + (out / "m.gguf") + " --prompt hi"));
  EXPECT_NE(both.status, 0);
  EXPECT_NE(both.output.find("excludes"), std::string::npos) << both.output;
}

TEST_F(GenerateCli, TokenizerIsFoundInTheRunDirectory) {
  const auto without = run_command(kBin + " generate --ckpt " + (*dir_ / "run") + " --prompt hi --max-tokens 2");
  EXPECT_NE(without.status, 0);  // random-token training: no data dir, and no copy in the run yet
  EXPECT_NE(without.output.find("--tokenizer"), std::string::npos) << without.output;
  fs::copy_file(*dir_ / "tok.json", *dir_ / "run/tokenizer.json", fs::copy_options::overwrite_existing);
  const auto with = run_command(kBin + " generate --ckpt " + (*dir_ / "run") + " --prompt hi --max-tokens 2");
  EXPECT_EQ(with.status, 0) << with.output;
  fs::remove(*dir_ / "run/tokenizer.json");
}

TEST_F(GenerateCli, JsonlBatchReportsBadLinesAndResumes) {
  TempDir io;
  const std::string in = io / "in.jsonl", out = io / "out.jsonl";
  testing_support::spit(in,
                        R"({"custom_id": "a", "body": {"prompt": "The note", "max_tokens": 8}})" "\n"
                        R"({"custom_id": "b", "body": {"prompt": "Hello)" "\n"  // malformed JSON
                        R"({"custom_id": "c", "body": {"prompt": "Once", "max_tokens": 5, "temperature": 0.9, "seed": 4, "logprobs": 2}})" "\n"
                        "\n"
                        R"({"custom_id": "d", "body": {"max_tokens": 5}})" "\n"  // no prompt
                        R"({"custom_id": "a", "body": {"prompt": "again"}})" "\n"  // repeated id
                        R"({"custom_id": "e", "body": {"prompt": "x", "temperature": -1}})" "\n");
  const auto first = run_command(generate("--input " + in + " --output " + out));
  EXPECT_EQ(first.status, 1) << first.output;  // bad lines make the exit status fail, after the batch
  for (const char* where : {"line 2:", "line 5:", "line 6:", "line 7:"}) {
    EXPECT_NE(first.output.find(where), std::string::npos) << where << "\n" << first.output;
  }
  EXPECT_NE(first.output.find("repeats line 1"), std::string::npos) << first.output;
  auto results = jsonl(out);
  ASSERT_EQ(results.size(), 2u);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& r : results) by_id[r["custom_id"]] = r;
  ASSERT_TRUE(by_id.count("a") && by_id.count("c"));
  const auto& choice_a = by_id["a"]["response"]["body"]["choices"][0];
  EXPECT_TRUE(choice_a["finish_reason"] == "length" || choice_a["finish_reason"] == "stop");
  EXPECT_LE(by_id["a"]["response"]["body"]["usage"]["completion_tokens"].get<int>(), 8);
  const auto& lp = by_id["c"]["response"]["body"]["choices"][0]["logprobs"];
  ASSERT_TRUE(lp.is_object());
  EXPECT_EQ(lp["token_logprobs"].size(), by_id["c"]["response"]["body"]["usage"]["completion_tokens"].get<size_t>());

  // Greedy in a batch is what --prompt streams.
  const auto alone = run_command(generate("--prompt 'The note' --max-tokens 8"), testing_support::Capture::StdoutOnly);
  EXPECT_EQ(alone.output, "The note" + choice_a["text"].get<std::string>() + "\n");

  // A rerun with a fixed input and one more line runs only the new line; the output keeps the rest.
  testing_support::spit(in, R"({"custom_id": "a", "body": {"prompt": "The note", "max_tokens": 8}})" "\n"
                            R"({"custom_id": "c", "body": {"prompt": "Once", "max_tokens": 5}})" "\n"
                            R"({"custom_id": "f", "body": {"prompt": "New note", "max_tokens": 3, "prompt_logprobs": true}})" "\n");
  testing_support::spit(out, slurp(out) + R"({"custom_id": "z", "resp)");  // a line cut short by a crash
  const auto second = run_command(generate("--input " + in + " --output " + out));
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("1 completed, 2 already in"), std::string::npos) << second.output;
  results = jsonl(out);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], by_id[results[0]["custom_id"]]);
  EXPECT_EQ(results[2]["custom_id"], "f");
  const auto& plp = results[2]["response"]["body"]["choices"][0]["prompt_logprobs"];
  ASSERT_TRUE(plp.is_array());
  EXPECT_EQ(plp.size() + 1, results[2]["response"]["body"]["usage"]["prompt_tokens"].get<size_t>());
  for (const auto& t : plp) EXPECT_LE(t["logprob"].get<double>(), 0.0);
}

}  // namespace
}  // namespace tessera
