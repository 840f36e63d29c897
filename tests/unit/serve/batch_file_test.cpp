// Offline batches split over replicas (serve/batch_file.h's BatchShare): the shares of a file
// together answer every line of a one-share run with the same bytes, each line in exactly one
// share; bad lines and a custom_id repeated on another share's line are reported by the share that
// owns the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "serve/batch_file.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/serve/serve_test_support.h"

namespace tessera::serve {
namespace {

struct ShareRun {
  BatchReport report;
  std::map<int64_t, std::string> results;  // input line -> output line
};

ShareRun run_share(core::Transformer& model, const std::string& input, BatchShare share) {
  const datasets::Tokenizer tok = testing::byte_tokenizer();
  Engine engine(model, tok, {.kv_cache_bytes = 1 << 20, .block_size = 4});
  ShareRun run;
  SamplingParams defaults;
  defaults.max_tokens = 6;
  run.report = run_batch_file(
      engine, tok, input, [&](int64_t line, const std::string& r) { run.results[line] = r; }, defaults, {}, {}, share);
  return run;
}

TEST(BatchFile, SharesTogetherAnswerWhatOneRunAnswers) {
  core::Transformer model(testing_support::tiny_model("gpt2", {.seq_len = 64, .vocab_size = 300}));
  model.init_weights(5);
  const std::string input = (std::filesystem::temp_directory_path() / "batch_file_test.jsonl").string();
  {
    std::ofstream f(input);
    f << R"({"custom_id": "a", "body": {"prompt": "Once upon"}})" << '\n'               // 1: share 0
      << R"({"custom_id": "b", "body": {"prompt": "a time", "temperature": 0.8}})" << '\n'  // 2: share 1
      << "not json\n"                                                                  // 3: share 0
      << R"({"custom_id": "a", "body": {"prompt": "again"}})" << '\n'                  // 4: share 1, repeats line 1
      << R"({"custom_id": "c", "body": {"prompt": "there was"}})" << '\n';             // 5: share 0
  }
  const ShareRun one = run_share(model, input, {});
  const ShareRun s0 = run_share(model, input, {0, 2}), s1 = run_share(model, input, {1, 2});
  std::filesystem::remove(input);
  EXPECT_EQ(one.report.lines, 5);
  EXPECT_EQ(one.report.errors.size(), 2u);
  ASSERT_EQ(one.results.size(), 3u);
  EXPECT_EQ(s0.report.lines, 3);
  EXPECT_EQ(s1.report.lines, 2);
  EXPECT_EQ(s0.report.completed + s1.report.completed, 3);
  ASSERT_EQ(s0.report.errors.size(), 1u);
  EXPECT_EQ(s0.report.errors[0].rfind("line 3: ", 0), 0u) << s0.report.errors[0];
  ASSERT_EQ(s1.report.errors.size(), 1u);
  EXPECT_EQ(s1.report.errors[0].rfind("line 4: ", 0), 0u) << s1.report.errors[0];
  EXPECT_NE(s1.report.errors[0].find("custom_id 'a' repeats line 1"), std::string::npos) << s1.report.errors[0];
  std::map<int64_t, std::string> both = s0.results;
  both.insert(s1.results.begin(), s1.results.end());
  EXPECT_EQ(both, one.results);  // lines 1, 2, 5, byte for byte (a sampled one among them)
  EXPECT_EQ(s0.results.count(1) + s0.results.count(5), 2u);
  EXPECT_EQ(s1.results.count(2), 1u);
}

}  // namespace
}  // namespace tessera::serve
