#pragma once
// Offline batches from JSONL files, OpenAI batch style. Each input line is one request:
//   {"custom_id": "q1", "body": {"prompt": "Once upon", "max_tokens": 32, "temperature": 0.7, ...}}
// body fields: prompt (required), max_tokens, temperature, top_k, top_p, min_p,
// repetition_penalty, presence_penalty, frequency_penalty, seed, stop (a string or a list),
// logprobs (N), prompt_logprobs (true: the log-probability of each prompt token after the first,
// given the ones before it: choices[0].prompt_logprobs, a list of {token, logprob}); fields it omits
// take the defaults given. Each result is one output line:
//   {"custom_id": "q1", "response": {"body": {"choices": [{"index": 0, "text": "...",
//    "finish_reason": "stop"|"length", "logprobs": ...}], "usage": {"prompt_tokens": P,
//    "completion_tokens": C, "total_tokens": P+C}}}, "error": null}
// handed to a sink as soon as the request finishes (a file: the order follows completion).
//
// All requests share one engine (continuous batching). Resumable: custom_ids already in the
// output are skipped (a last line cut short by a crash is dropped first). A bad line (malformed
// JSON, no custom_id or prompt, a bad field, a repeated custom_id, a prompt longer than the
// context) is reported with its line number and the batch goes on.
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/tokenizer.h"
#include "serve/engine.h"

namespace tessera::serve {

struct BatchLine {
  std::string custom_id;
  std::string prompt;
  SamplingParams params;
};

// One input line -> the request; throws tessera::Error naming the problem.
BatchLine parse_batch_line(std::string_view line, const SamplingParams& defaults);
// The output line (no newline) of a finished request.
std::string format_batch_result(const std::string& custom_id, const Completion& c, int64_t prompt_tokens,
                                const datasets::Tokenizer& tokenizer);
// The custom_ids already in an output file (none when it does not exist). A last line with no
// newline (a write cut short) is removed from the file.
std::set<std::string> finished_ids(const std::string& output_path);

struct BatchReport {
  int64_t lines = 0;      // non-empty input lines
  int64_t completed = 0;  // requests run by this call
  int64_t skipped = 0;    // already in the output
  std::vector<std::string> errors;  // "line N: what", one per bad line
};

// Where results go: each finished request's output line (no newline) with its input line number.
using ResultSink = std::function<void(int64_t line_no, const std::string& result)>;
// Appends each result to output_path (opened at the first result), flushed at once; an empty path:
// a sink that drops them.
ResultSink file_sink(const std::string& output_path);

// The lines a data-parallel replica runs: line i (1-based, every line counted) when
// (i - 1) % replicas == replica. Every replica reads every line (a custom_id repeated on another
// replica's line is found), but counts, reports and runs only its own.
struct BatchShare {
  int replica = 0, replicas = 1;
  bool owns(int64_t line_no) const { return (line_no - 1) % replicas == replica; }
};

// Runs every request of input_path in this share whose custom_id is not in `done` (finished_ids of
// the output), giving each result to `sink` as it finishes (the other ranks of a tensor-parallel
// group run the same requests with a sink that drops them; rank 0 writes). A custom_id counts as
// taken from its first line that parses. on_done is called after each completed request.
BatchReport run_batch_file(Engine& engine, const datasets::Tokenizer& tokenizer, const std::string& input_path,
                           const ResultSink& sink, const SamplingParams& defaults,
                           const std::set<std::string>& done,
                           const std::function<void(const BatchReport&)>& on_done = {}, BatchShare share = {});

}  // namespace tessera::serve
