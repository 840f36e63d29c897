#pragma once
// What the eval unit tests share: the test corpus prepared once per test program by the real
// binary (a 300-token tokenizer, half the documents held out for validation), a tiny model of its
// vocabulary, and per-token log-likelihoods computed independently of eval/ (a plain forward,
// log-softmax in double).
#include <cmath>
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "datasets/manifest.h"
#include "datasets/tokenizer.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/test_support.h"

namespace tessera::eval_testing {

// DIR/data holds the prepared corpus; made on first use, kept for the program's life.
inline const std::string& prepared_data() {
  static testing_support::TempDir* dir = [] {
    auto* d = new testing_support::TempDir;
    const auto r = testing_support::run_command(std::string(TESSERA_BIN) + " prepare --input " + TESSERA_TEST_DATA +
                                                "/corpus --out " + (*d / "data") +
                                                " --train-tokenizer --vocab-size 300 --val-fraction 0.5");
    EXPECT_EQ(r.status, 0) << r.output;
    return d;
  }();
  static const std::string path = *dir / "data";
  return path;
}

inline std::vector<std::string> val_shards() {
  return datasets::load_manifest(prepared_data()).shard_paths(prepared_data(), "val");
}

inline datasets::Tokenizer tokenizer() {
  return datasets::Tokenizer::load(prepared_data() + "/" + std::string(datasets::kTokenizerFile));
}

inline ModelConfig tiny_config() { return testing_support::tiny_model("gpt2", {.vocab_size = 320}); }

// log p(tokens[t+1] | tokens[..t]) for t in [0, L-1): a forward of the one sequence, log-softmax
// of its (1, L-1, V) logits in double.
inline std::vector<double> token_log_probs(core::Transformer& model, const std::vector<int32_t>& tokens) {
  const auto T = static_cast<int64_t>(tokens.size()) - 1;
  core::Tensor inputs = core::Tensor::empty({1, T}, core::DType::i32);
  for (int64_t t = 0; t < T; ++t) inputs.data<int32_t>()[t] = tokens[static_cast<size_t>(t)];
  model.forward(inputs);
  const int64_t V = model.config().vocab_size;
  std::vector<double> out;
  for (int64_t t = 0; t < T; ++t) {
    const float* row = model.logits().data<float>() + t * V;  // (V,)
    double max = -INFINITY, sum = 0;
    for (int64_t v = 0; v < V; ++v) max = std::max(max, static_cast<double>(row[v]));
    for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
    out.push_back(static_cast<double>(row[tokens[static_cast<size_t>(t + 1)]]) - max - std::log(sum));
  }
  return out;
}

}  // namespace tessera::eval_testing
