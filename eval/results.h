#pragma once
// What an evaluation found, per model and task, and how it is written to a report directory:
//   results.json  metrics with stderr and n per model and task, the checkpoint's identity
//                 (path, step, format version, lineage, tokenizer hash), software version, date
//                 (schema in docs/evaluation.md)
//   samples.jsonl one line per multiple-choice item: model, task, index, choice log-likelihoods,
//                 predictions, label
//   report.md     a Markdown table per task: one column per model, value ± stderr, and for a
//                 second model on, its difference from the first ± its standard error, marked
//                 better or worse when significant (compare.h)
//   report.html   the same with charts and the runs' training curves (report_html.h)
//   results.json also holds the comparisons
// Local: the root rank writes, each file atomically.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/format.h"
#include "eval/multiple_choice.h"

namespace tessera::eval {

inline constexpr std::string_view kResultsFormat = "tessera-eval-results";
inline constexpr int kResultsFormatVersion = 1;

struct Metric {
  std::string name;  // mean_loss, perplexity, bits_per_byte, acc, acc_norm
  double value = 0, stderr_value = 0;
  // Per example (window or item), values whose mean is `value`: a window's mean loss, an item's
  // 0/1 correctness, or a nonlinear metric's delta-method expansion (compare.h pairs them).
  std::vector<double> per_example;
};

struct TaskResult {
  std::string name;    // "val_perplexity", "cloze" or a task file's name
  std::string kind;    // "perplexity" or "multiple_choice"
  std::string source;  // the shards' directory or the task file
  size_t n = 0;        // windows or items scored
  std::vector<Metric> metrics;
  std::vector<ItemResult> samples;  // multiple choice only
  double seconds = 0;  // wall time of the scoring
};

struct ModelResult {
  std::string ref, file;  // as given, and the checkpoint file it resolved to
  checkpoint::Meta meta;
  std::vector<TaskResult> tasks;
};

const TaskResult* find_task(const ModelResult& model, const std::string& name);
const Metric* find_metric(const TaskResult& task, const std::string& name);

nlohmann::ordered_json results_json(const std::vector<ModelResult>& models, const std::string& created_at);
std::string samples_jsonl(const std::vector<ModelResult>& models);
std::string report_markdown(const std::vector<ModelResult>& models, const std::string& created_at);

// Writes the four files into `dir` (which must exist).
void write_report(const std::string& dir, const std::vector<ModelResult>& models);

}  // namespace tessera::eval
