// A GGUF written independently of Tessera's writer (tests/interop/write_gguf.mjs, from the GGUF
// specification: random weights, alignment 64, a padded vocabulary), served by Tessera through the
// loader every command uses (serve/model_source.h) and run by llama.cpp: the same tokenisation,
// next-token log-probabilities within each type's tolerance, and (f32) the same greedy tokens
// from the serving engine. Skipped only when node/npm or the package cannot be installed.
//
// Tolerances on max |log p difference| (the reasons are those of
// tests/unit/interchange/gguf_llama_cpp_test.cpp): f32 llama 1e-4; f32 gpt2 1e-2 (llama.cpp's
// fp16 GELU table); f16 5e-2; q8_0 0.5 (llama.cpp also quantises the activations to q8_0).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/engine.h"
#include "serve/model_source.h"
#include "tests/unit/llama_cpp_support.h"
#include "tests/unit/test_support.h"

namespace tessera::serve {
namespace {

using testing_support::TempDir;

struct Case {
  std::string arch, type;
  double tolerance;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.arch << "_" << c.type; }

class IndependentGguf : public ::testing::TestWithParam<Case> {};

TEST_P(IndependentGguf, ServesWhatLlamaCppComputes) {
  TESSERA_SKIP_WITHOUT_LLAMA_CPP();
  const Case& c = GetParam();
  TempDir dir;
  const std::string gguf = dir / "model.gguf";
  const auto written = testing_support::run_command("node " +
                                                    (testing_support::kSourceTests / "interop" / "write_gguf.mjs").string() +
                                                    " " + gguf + " " + c.arch + " " + c.type + " 7");
  ASSERT_EQ(written.status, 0) << written.output;

  ModelSource source = load_model_source({.model = gguf});
  const datasets::Tokenizer& tok = source.require_tokenizer();
  EXPECT_EQ(tok.vocab_size(), 265u);  // 256 bytes, 8 merges, <|endoftext|>; the unused padding dropped
  EXPECT_EQ(source.config.model.vocab_size, 320);
  EXPECT_EQ(source.config.model.tie_embeddings, c.arch == "gpt2");
  const std::string text = "the thin theory of the sun on a stone";
  std::vector<int32_t> prompt;
  for (const auto id : tok.encode(text)) prompt.push_back(static_cast<int32_t>(id));
  EXPECT_LT(prompt.size(), text.size());  // the merges applied

  const int64_t n_gen = 16;
  std::vector<int32_t> seq = prompt;
  const nlohmann::json request = {{"vocab", 320}, {"prompt", prompt}, {"generate", n_gen}, {"text", text}};
  const testing_support::LlamaCppRun theirs = testing_support::run_llama_cpp(dir, gguf, request);
  ASSERT_EQ(theirs.greedy.size(), static_cast<size_t>(n_gen));
  EXPECT_EQ(theirs.tokenized, prompt) << "llama.cpp tokenizes the prompt differently";

  std::unique_ptr<core::Transformer> model = shard_model(source, nullptr);
  // llama.cpp's greedy path, teacher-forced through Tessera's full forward.
  seq.insert(seq.end(), theirs.greedy.begin(), theirs.greedy.end() - 1);
  const double diff = testing_support::max_logprob_diff(
      testing_support::tessera_logprobs(*model, seq, prompt.size() - 1), theirs.greedy_probs);
  std::printf("[ figures  ] independent %s %s: max |log p diff| = %.3g (tolerance %.3g)\n", c.arch.c_str(),
              c.type.c_str(), diff, c.tolerance);
  EXPECT_LE(diff, c.tolerance);
  // Random weights still make a varied continuation.
  EXPECT_GE(std::set<int32_t>(theirs.greedy.begin(), theirs.greedy.end()).size(), 4u);

  if (c.type == "f32") {
    Engine engine(*model, tok);
    SamplingParams greedy;
    greedy.max_tokens = n_gen;
    greedy.ignore_eos = true;
    const std::vector<Completion> ours = engine.generate({{prompt, greedy}});
    EXPECT_EQ(ours.at(0).tokens, theirs.greedy) << "the engine's greedy tokens differ from llama.cpp's";
  }
}

INSTANTIATE_TEST_SUITE_P(Files, IndependentGguf,
                         ::testing::Values(Case{"llama", "f32", 1e-4}, Case{"llama", "f16", 5e-2},
                                           Case{"llama", "q8_0", 0.5}, Case{"gpt2", "f32", 1e-2},
                                           Case{"gpt2", "q8_0", 0.5}),
                         [](const auto& p) { return p.param.arch + "_" + p.param.type; });

}  // namespace
}  // namespace tessera::serve
