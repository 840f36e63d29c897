#include "eval/results.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "datasets/manifest.h"
#include "eval/compare.h"
#include "eval/report_html.h"

namespace tessera::eval {

const Metric* find_metric(const TaskResult& task, const std::string& name) {
  for (const Metric& m : task.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const TaskResult* find_task(const ModelResult& model, const std::string& name) {
  for (const TaskResult& t : model.tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

nlohmann::ordered_json results_json(const std::vector<ModelResult>& models, const std::string& created_at) {
  nlohmann::ordered_json out = {{"format", kResultsFormat}, {"format_version", kResultsFormatVersion},
                                {"created_at", created_at}, {"software_version", checkpoint::software_version()}};
  out["models"] = nlohmann::ordered_json::array();
  for (const ModelResult& m : models) {
    nlohmann::ordered_json model = {
        {"ref", m.ref},
        {"checkpoint", {{"path", m.file}, {"step", m.meta.step}, {"format_version", m.meta.format_version},
                        {"tokens_seen", m.meta.tokens_seen}, {"created_at", m.meta.created_at},
                        {"software_version", m.meta.software_version}}},
        {"lineage", m.meta.lineage},
        {"tokenizer_hash", m.meta.tokenizer_hash},
        {"tasks", nlohmann::ordered_json::object()}};
    for (const TaskResult& t : m.tasks) {
      nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
      for (const Metric& metric : t.metrics) metrics[metric.name] = {{"value", metric.value}, {"stderr", metric.stderr_value}};
      model["tasks"][t.name] = {{"kind", t.kind}, {"source", t.source}, {"n", t.n}, {"seconds", t.seconds},
                                {"metrics", metrics}};
    }
    out["models"].push_back(model);
  }
  out["comparisons"] = nlohmann::ordered_json::array();
  for (const Comparison& c : compare(models)) {
    out["comparisons"].push_back({{"task", c.task}, {"metric", c.metric}, {"model", c.model}, {"baseline", c.baseline},
                                  {"difference", c.difference}, {"stderr", c.stderr_value}, {"z", c.z},
                                  {"paired", c.paired}, {"significant", c.significant}, {"mark", c.mark}});
  }
  return out;
}

std::string samples_jsonl(const std::vector<ModelResult>& models) {
  std::string out;
  for (const ModelResult& m : models) {
    for (const TaskResult& t : m.tasks) {
      for (size_t i = 0; i < t.samples.size(); ++i) {
        const ItemResult& s = t.samples[i];
        const nlohmann::ordered_json line = {{"model", m.ref}, {"task", t.name}, {"index", i},
                                             {"log_likelihoods", s.log_likelihoods}, {"prediction", s.prediction},
                                             {"prediction_norm", s.prediction_norm}, {"label", s.label}};
        out += line.dump() + "\n";
      }
    }
  }
  return out;
}

std::string report_markdown(const std::vector<ModelResult>& models, const std::string& created_at) {
  std::string out = fmt::format("# Evaluation report\n\n{} · tessera {}\n\n", created_at, checkpoint::software_version());
  for (size_t k = 0; k < models.size(); ++k) {
    out += fmt::format("- model {}: `{}` (step {}, {})\n", k + 1, models[k].ref, models[k].meta.step, models[k].file);
  }
  if (models.empty()) return out;
  const std::vector<Comparison> comparisons = compare(models);
  for (const TaskResult& task : models.front().tasks) {
    out += fmt::format("\n## {} ({}, n = {})\n\n| metric |", task.name, task.kind, task.n);
    for (size_t k = 0; k < models.size(); ++k) out += fmt::format(" model {} |", k + 1);
    for (size_t k = 1; k < models.size(); ++k) out += fmt::format(" model {} - model 1 |", k + 1);
    out += "\n|---|";
    for (size_t k = 0; k < 2 * models.size() - 1; ++k) out += "---|";
    out += "\n";
    for (const Metric& first : task.metrics) {
      out += "| " + first.name + " |";
      std::vector<const Metric*> row;
      for (const ModelResult& m : models) {
        const TaskResult* t = find_task(m, task.name);
        row.push_back(t ? find_metric(*t, first.name) : nullptr);
        out += row.back() ? fmt::format(" {:.4f} ± {:.4f} |", row.back()->value, row.back()->stderr_value) : " - |";
      }
      for (size_t k = 1; k < row.size(); ++k) {
        const auto c = std::find_if(comparisons.begin(), comparisons.end(), [&](const Comparison& x) {
          return x.model == k && x.task == task.name && x.metric == first.name;
        });
        if (c == comparisons.end()) {
          out += " - |";
          continue;
        }
        out += fmt::format(" {:+.4f} ± {:.4f}{}{} |", c->difference, c->stderr_value, c->paired ? " (paired)" : "",
                           c->mark.empty() ? "" : " **" + c->mark + "**");
      }
      out += "\n";
    }
  }
  if (models.size() > 1) {
    out += "\nDifferences ± their standard error (paired over the same examples where marked); **better** or "
           "**worse** when |difference| > 1.96 standard errors.\n";
  }
  return out;
}

void write_report(const std::string& dir, const std::vector<ModelResult>& models) {
  const std::string created_at = checkpoint::utc_now_iso8601();
  const std::filesystem::path d(dir);
  datasets::write_file_atomically((d / "results.json").string(), results_json(models, created_at).dump(2) + "\n");
  datasets::write_file_atomically((d / "samples.jsonl").string(), samples_jsonl(models));
  datasets::write_file_atomically((d / "report.md").string(), report_markdown(models, created_at));
  datasets::write_file_atomically((d / "report.html").string(), report_html(models, compare(models), created_at));
}

}  // namespace tessera::eval
