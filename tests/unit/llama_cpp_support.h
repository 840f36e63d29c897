#pragma once
// Running llama.cpp from the tests (node-llama-cpp's prebuilt CPU binaries, installed into the
// build tree on first use by tests/interop/install_llama_cpp.sh) and comparing its next-token
// distributions with Tessera's. llama.cpp (through node-llama-cpp) exposes probabilities, not
// logits: log p = logit - logsumexp, so |log p_llama - log p_tessera| bounds the difference of the
// logits after removing each row's common offset, and is what the tests compare.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/transformer.h"
#include "tests/unit/test_support.h"

namespace tessera::testing_support {

inline const std::filesystem::path kSourceTests = std::filesystem::path(TESSERA_TEST_DATA).parent_path();  // tests/
inline const std::filesystem::path kInteropDir = TESSERA_INTEROP_DIR;  // <build>/interop

// Installs node-llama-cpp once per process; the reason it could not, or "".
inline const std::string& llama_cpp_install_problem() {
  static const std::string problem = [] {
    const auto r = run_command("sh " + (kSourceTests / "interop" / "install_llama_cpp.sh").string() + " " +
                               kInteropDir.string());
    return r.status == 0 ? std::string() : "node-llama-cpp could not be installed: " + r.output;
  }();
  return problem;
}

// First statement of a test that runs llama.cpp: skips the test when llama.cpp cannot be installed
// (node or npm missing, the npm registry unreachable), or fails it when TESSERA_REQUIRE_INTEROP is
// set (CI: .ci/run), so that a machine that cannot run llama.cpp cannot pass by skipping.
#define TESSERA_SKIP_WITHOUT_LLAMA_CPP()                                                                      \
  do {                                                                                                        \
    const std::string& problem_ = ::tessera::testing_support::llama_cpp_install_problem();                    \
    if (problem_.empty()) break;                                                                              \
    if (std::getenv("TESSERA_REQUIRE_INTEROP")) FAIL() << "TESSERA_REQUIRE_INTEROP is set, and " << problem_; \
    GTEST_SKIP() << problem_;                                                                                 \
  } while (0)

struct LlamaCppRun {
  std::vector<int32_t> greedy, tokenized;
  std::vector<std::vector<double>> greedy_probs, score_probs;
};

// tests/interop/llama_cpp_run.mjs on `gguf` with `request` (its fields are described there).
inline LlamaCppRun run_llama_cpp(const TempDir& dir, const std::string& gguf, const nlohmann::json& request) {
  std::ofstream(dir / "request.json") << request.dump();
  const std::string cmd = "node " + (kSourceTests / "interop" / "llama_cpp_run.mjs").string() + " " +
                          (kInteropDir / "node_modules").string() + " " + gguf + " " + (dir / "request.json") +
                          " 2> " + (dir / "stderr.txt");
  const auto r = run_command(cmd, Capture::StdoutOnly);
  if (r.status != 0) {
    ADD_FAILURE() << "llama.cpp run failed (" << r.status << "): " << slurp(dir / "stderr.txt");
    return {};
  }
  const auto j = nlohmann::json::parse(r.output);
  return {j["greedy"].get<std::vector<int32_t>>(), j["tokenized"].get<std::vector<int32_t>>(),
          j["greedy_probs"].get<std::vector<std::vector<double>>>(),
          j["score_probs"].get<std::vector<std::vector<double>>>()};
}

// Tessera's next-token log-probabilities after each position p >= from of `seq`, in double.
inline std::vector<std::vector<double>> tessera_logprobs(core::Transformer& m, const std::vector<int32_t>& seq,
                                                         size_t from) {
  const auto T = static_cast<int64_t>(seq.size()), V = m.config().vocab_size;
  core::Tensor x = core::Tensor::empty({1, T}, core::DType::i32);
  std::copy(seq.begin(), seq.end(), x.data<int32_t>());
  m.forward(x);
  const float* logits = m.logits().data<float>();
  std::vector<std::vector<double>> out;
  for (auto p = static_cast<int64_t>(from); p < T; ++p) {
    const float* row = logits + p * V;
    const double mx = *std::max_element(row, row + V);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
    std::vector<double> lp(static_cast<size_t>(V));
    for (int64_t v = 0; v < V; ++v) lp[v] = row[v] - mx - std::log(sum);
    out.push_back(std::move(lp));
  }
  return out;
}

// max |log p_tessera - log p_llama| over every row and token. Tokens whose probability llama.cpp's
// float softmax cannot represent (log p below -80) are compared only as "tiny".
inline double max_logprob_diff(const std::vector<std::vector<double>>& ours,
                               const std::vector<std::vector<double>>& theirs) {
  EXPECT_EQ(ours.size(), theirs.size());
  double worst = 0;
  for (size_t r = 0; r < std::min(ours.size(), theirs.size()); ++r) {
    EXPECT_EQ(ours[r].size(), theirs[r].size());
    for (size_t v = 0; v < std::min(ours[r].size(), theirs[r].size()); ++v) {
      if (ours[r][v] < -80) {
        EXPECT_LT(theirs[r][v], 1e-30) << "row " << r << " token " << v;
        continue;
      }
      worst = std::max(worst, std::fabs(ours[r][v] - std::log(theirs[r][v])));
    }
  }
  return worst;
}

}  // namespace tessera::testing_support
