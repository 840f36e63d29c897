// GGUF export checked against llama.cpp itself (node-llama-cpp's prebuilt CPU binaries, fetched
// into the build tree on first run by tests/interop/install_llama_cpp.sh). For a briefly trained
// model of each family: llama.cpp's greedy tokens equal Tessera's (f32), its next-token
// log-probabilities agree with Tessera's within each dtype's tolerance (below), and it tokenizes
// text as Tessera does. Skipped only when node/npm or the package cannot be installed.
//
// What is compared (log-probabilities, as llama.cpp exposes them): tests/unit/llama_cpp_support.h.
//
// Tolerances on max |log p difference| over every position and token, and why:
//   f32 llama: 1e-4. Both sides compute in f32 and differ only in summation order (~1e-6
//         relative per op).
//   f32 gpt2:  1e-2. llama.cpp computes GELU by looking up fp16(x) in a table of fp16 results
//         (relative error up to about 1e-3 per activation).
//   f16:  5e-2. Weights rounded to fp16 (2^-11 relative) and, in llama.cpp's f16 matmul, the
//         activations too.
//   q8_0: 0.5. Weights quantised to 8 bits per 32-block (step max|w|/127) and, in llama.cpp's
//         q8_0 matmul, the activations to q8_0 as well. A layout or permutation mistake moves
//         log-probabilities by whole units, far beyond every tolerance.
// Measured figures: docs/interchange.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/model/transformer.h"
#include "datasets/tokenizer_train.h"
#include "interchange/gguf_export.h"
#include "interchange/gguf_import.h"
#include "tests/unit/interchange/gguf_test_support.h"
#include "tests/unit/llama_cpp_support.h"
#include "tests/unit/test_support.h"
#include "train/optimizer.h"
#include "train/sampler.h"

namespace tessera::interchange {
namespace {

namespace fs = std::filesystem;
using J = nlohmann::json;
using testing_support::LlamaCppRun;
using testing_support::max_logprob_diff;
using testing_support::run_llama_cpp;
using testing_support::TempDir;
using testing_support::tessera_logprobs;

std::string corpus_text() {
  std::string text;
  for (const char* name : {"notes.txt", "fortunes", "articles.jsonl"}) {
    text += testing_support::slurp((fs::path(TESSERA_TEST_DATA) / "corpus" / name).string());
  }
  return text;
}

const datasets::Tokenizer& corpus_tokenizer() {
  static const datasets::Tokenizer tok = [] {
    datasets::WordCounts counts;
    counts.add_text(corpus_text());
    return datasets::train_bpe(counts, 400);
  }();
  return tok;
}

// A 2-layer, d=64 model trained for a few hundred steps on the corpus: confident enough that
// greedy decoding follows the text rather than near-ties. Trained once per family and process.
core::Transformer& trained_model(const std::string& family) {
  static std::map<std::string, std::unique_ptr<core::Transformer>> cache;
  auto& slot = cache[family];
  if (slot) return *slot;
  ModelConfig c = testing::small_config(family, static_cast<int64_t>(corpus_tokenizer().vocab_size()));
  c.seq_len = 48;
  auto m = std::make_unique<core::Transformer>(c);
  m->init_weights(1234);
  const auto ids = corpus_tokenizer().encode(corpus_text());
  const int64_t B = 8, T = 32, n = static_cast<int64_t>(ids.size());
  train::AdamW opt(m->params(), m->grads(), 0.0);
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<int64_t> start(0, n - T - 2);
  core::Tensor x = core::Tensor::empty({B, T}, core::DType::i32), y = core::Tensor::empty({B, T}, core::DType::i32);
  for (int step = 0; step < 300; ++step) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t s = start(rng);
      for (int64_t t = 0; t < T; ++t) {
        x.data<int32_t>()[b * T + t] = static_cast<int32_t>(ids[s + t]);
        y.data<int32_t>()[b * T + t] = static_cast<int32_t>(ids[s + t + 1]);
      }
    }
    m->zero_grad();
    m->forward(x, y);
    m->backward();
    train::clip_global_norm(m->grads(), 1.0);
    opt.step(3e-3);
  }
  slot = std::move(m);
  return *slot;
}

struct DtypeCase {
  gguf::TensorType dtype;
  double tolerance;  // on max |log p difference|; the reasons are at the top of this file
};

struct FamilyCase {
  std::string family;
  std::vector<DtypeCase> dtypes;
};

void PrintTo(const FamilyCase& c, std::ostream* os) { *os << c.family; }

// One test per family (one process under ctest): the model is trained once and exported in
// every dtype.
class LlamaCpp : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(LlamaCpp, AgreesWithTessera) {
  TESSERA_SKIP_WITHOUT_LLAMA_CPP();
  const FamilyCase& fc = GetParam();
  core::Transformer& model = trained_model(fc.family);
  const datasets::Tokenizer& tok = corpus_tokenizer();
  const std::string text = "A corpus is read file by file.";
  std::vector<int32_t> prompt;
  for (const auto id : tok.encode(text)) prompt.push_back(static_cast<int32_t>(id));
  const int64_t n_gen = 24;
  const std::vector<int32_t> ours = train::generate(model, prompt, {.max_tokens = n_gen});
  // The model is not trivially repetitive: greedy output holds several distinct tokens.
  EXPECT_GE(std::set<int32_t>(ours.begin(), ours.end()).size(), 5u);
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), ours.begin(), ours.end() - 1);  // the positions whose next token was chosen
  const auto ref = tessera_logprobs(model, seq, prompt.size() - 1);
  const J request = {{"vocab", model.config().vocab_size}, {"prompt", prompt}, {"generate", n_gen},
                     {"score", seq}, {"score_from", prompt.size() - 1}, {"text", text}};

  for (const DtypeCase& c : fc.dtypes) {
    const std::string dtype(gguf::tensor_type_name(c.dtype));
    SCOPED_TRACE(fc.family + " " + dtype);
    TempDir dir;
    const std::string gguf = dir / "model.gguf";
    export_gguf(model.config(), model.params(), tok, gguf, {.dtype = c.dtype});
    const LlamaCppRun theirs = run_llama_cpp(dir, gguf, request);
    ASSERT_EQ(theirs.score_probs.size(), static_cast<size_t>(n_gen));
    EXPECT_EQ(theirs.tokenized, prompt) << "llama.cpp tokenizes the prompt differently";
    const double diff = max_logprob_diff(ref, theirs.score_probs);
    RecordProperty("max_abs_logprob_diff_" + dtype, std::to_string(diff));
    std::printf("[ figures  ] %s %s: max |log p diff| = %.3g (tolerance %.3g); greedy %s\n", fc.family.c_str(),
                dtype.c_str(), diff, c.tolerance, theirs.greedy == ours ? "identical" : "differs");
    EXPECT_LE(diff, c.tolerance);
    // f32 must choose the same tokens. Rounded weights may legitimately flip a near-tie, so for
    // them the agreement of the distributions above is the check.
    if (c.dtype == gguf::TensorType::f32) {
      EXPECT_EQ(theirs.greedy, ours) << "greedy decoding differs";
      // The greedy run's distributions, computed incrementally with the KV cache, agree too.
      EXPECT_LE(max_logprob_diff(ref, theirs.greedy_probs), c.tolerance);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, LlamaCpp,
                         ::testing::Values(FamilyCase{"gpt2", {{gguf::TensorType::f32, 1e-2},
                                                               {gguf::TensorType::f16, 5e-2},
                                                               {gguf::TensorType::bf16, 0.2},
                                                               {gguf::TensorType::q8_0, 0.5}}},
                                           FamilyCase{"llama", {{gguf::TensorType::f32, 1e-4},
                                                                {gguf::TensorType::f16, 5e-2},
                                                                {gguf::TensorType::bf16, 0.2},
                                                                {gguf::TensorType::q8_0, 0.5}}}),
                         [](const auto& p) { return p.param.family; });

// The export read back (interchange/gguf_import.h) generates what the model generates, llama.cpp
// aside: f32 comes back bit for bit; q8_0 keeps the greedy tokens of this trained model.
class ReadBack : public ::testing::TestWithParam<std::string> {};

TEST_P(ReadBack, GeneratesTheSameGreedyTokens) {
  core::Transformer& model = trained_model(GetParam());
  const datasets::Tokenizer& tok = corpus_tokenizer();
  std::vector<int32_t> prompt;
  for (const auto id : tok.encode("A corpus is read file by file.")) prompt.push_back(static_cast<int32_t>(id));
  const std::vector<int32_t> ours = train::generate(model, prompt, {.max_tokens = 24});
  for (const gguf::TensorType type : {gguf::TensorType::f32, gguf::TensorType::q8_0}) {
    SCOPED_TRACE(gguf::tensor_type_name(type));
    TempDir dir;
    export_gguf(model.config(), model.params(), tok, dir / "model.gguf", {.dtype = type});
    GgufModel back = import_gguf(dir / "model.gguf");
    EXPECT_EQ(back.tokenizer.hash(), tok.hash());
    EXPECT_EQ(train::generate(*back.model, prompt, {.max_tokens = 24}), ours);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ReadBack, ::testing::Values("gpt2", "llama"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace tessera::interchange
