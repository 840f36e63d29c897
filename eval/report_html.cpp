#include "eval/report_html.h"

#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "report/html_page.h"
#include "report/run_metrics.h"
#include "report/svg_chart.h"

namespace tessera::eval {

namespace {

using report::escape;

std::string model_label(size_t k) { return fmt::format("model {}", k + 1); }

void models_table(report::HtmlPage& page, const std::vector<ModelResult>& models) {
  std::vector<std::vector<std::string>> rows;
  for (size_t k = 0; k < models.size(); ++k) {
    const ModelResult& m = models[k];
    rows.push_back({model_label(k), "<code>" + escape(m.ref) + "</code>", std::to_string(m.meta.step),
                    std::to_string(m.meta.tokens_seen), "<code>" + escape(m.file) + "</code>"});
  }
  page.table({"", "reference", "step", "tokens seen", "checkpoint"}, rows);
}

const Comparison* find_comparison(const std::vector<Comparison>& cs, const std::string& task, const std::string& metric,
                                  size_t model) {
  for (const Comparison& c : cs) {
    if (c.task == task && c.metric == metric && c.model == model) return &c;
  }
  return nullptr;
}

void task_section(report::HtmlPage& page, const std::vector<ModelResult>& models, const std::vector<Comparison>& cs,
                  const TaskResult& task) {
  page.heading(2, fmt::format("{} ({}, n = {})", task.name, task.kind, task.n));
  page.paragraph("<span class=\"note\">source: <code>" + escape(task.source) + "</code></span>");
  std::vector<std::string> header = {"metric"};
  for (size_t k = 0; k < models.size(); ++k) header.push_back(model_label(k));
  for (size_t k = 1; k < models.size(); ++k) header.push_back(fmt::format("{} − model 1", model_label(k)));
  std::vector<std::vector<std::string>> rows;
  std::string charts = "<div class=\"charts\">";
  for (const Metric& first : task.metrics) {
    std::vector<std::string> row = {escape(first.name) + (lower_is_better(first.name) ? " ↓" : " ↑")};
    report::BarGroup group{first.name, {}, {}};
    std::vector<std::string> names;
    for (size_t k = 0; k < models.size(); ++k) {
      const TaskResult* t = find_task(models[k], task.name);
      const Metric* m = t ? find_metric(*t, first.name) : nullptr;
      row.push_back(m ? fmt::format("{:.4f} ± {:.4f}", m->value, m->stderr_value) : "–");
      group.values.push_back(m ? m->value : NAN);
      group.errors.push_back(m ? m->stderr_value : NAN);
      names.push_back(model_label(k));
    }
    for (size_t k = 1; k < models.size(); ++k) {
      const Comparison* c = find_comparison(cs, task.name, first.name, k);
      row.push_back(c ? fmt::format("{:+.4f} ± {:.4f} ({}){}", c->difference, c->stderr_value,
                                    c->paired ? "paired" : "unpaired", report::mark_html(c->mark))
                      : "–");
    }
    rows.push_back(std::move(row));
    charts += report::svg(report::BarChart{fmt::format("metric-{}-{}", task.name, first.name),
                                           fmt::format("{}: {} (± 1 stderr)", task.name, first.name), first.name,
                                           names, {group}});
  }
  page.table(header, rows);
  page.raw(charts + "</div>");
}

// Training curves of every run an evaluated checkpoint comes from.
void training_section(report::HtmlPage& page, const std::vector<ModelResult>& models) {
  std::map<std::string, std::vector<int64_t>> runs;  // run dir -> evaluated steps
  for (const ModelResult& m : models) {
    const std::string dir = run_dir_of(m.file);
    if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "metrics.jsonl")) {
      runs[dir].push_back(m.meta.step);
    }
  }
  page.heading(2, "Training");
  report::LineChart loss{"loss-curves", "Loss by step", "step", "loss (nats/token)", {}, {}, false};
  report::LineChart speed{"train-throughput", "Training throughput", "step", "tokens/s", {}, {}, false};
  std::vector<std::vector<std::string>> rows;
  for (const auto& [dir, steps] : runs) {
    const report::RunMetrics rm = report::read_run_metrics(std::filesystem::path(dir) / "metrics.jsonl");
    const std::string name = std::filesystem::path(dir).filename().string();
    const std::vector<double> x = report::steps_of(rm.steps);
    loss.series.push_back({name + " train", x, report::column(rm.steps, &report::StepRecord::loss)});
    std::vector<double> vx, vy;
    for (const report::StepRecord& s : rm.steps) {
      if (std::isfinite(s.val_loss)) {
        vx.push_back(static_cast<double>(s.step));
        vy.push_back(s.val_loss);
      }
    }
    loss.series.push_back({name + " validation", vx, vy});
    speed.series.push_back({name, x, report::column(rm.steps, &report::StepRecord::tokens_per_s)});
    for (int64_t step : steps) loss.markers.push_back({static_cast<double>(step), fmt::format("{} step {} (evaluated)", name, step)});
    rows.push_back({"<code>" + escape(dir) + "</code>", std::to_string(rm.steps.size()),
                    std::to_string(rm.events.size())});
  }
  if (runs.empty()) page.paragraph("No run directory with metrics.jsonl beside the evaluated checkpoints.");
  if (!rows.empty()) page.table({"run", "steps logged", "events"}, rows);
  page.raw("<div class=\"charts\">" + report::svg(loss) + report::svg(speed) + "</div>");
}

void eval_speed_section(report::HtmlPage& page, const std::vector<ModelResult>& models) {
  report::BarChart chart{"eval-throughput", "Evaluation throughput (windows or items per second)", "per second", {}, {}};
  for (size_t k = 0; k < models.size(); ++k) chart.series.push_back(model_label(k));
  if (!models.empty()) {
    for (const TaskResult& task : models.front().tasks) {
      report::BarGroup g{task.name, {}, {}};
      for (const ModelResult& m : models) {
        const TaskResult* t = find_task(m, task.name);
        g.values.push_back(t && t->seconds > 0 ? static_cast<double>(t->n) / t->seconds : NAN);
      }
      chart.groups.push_back(std::move(g));
    }
  }
  page.raw(report::svg(chart));
}

}  // namespace

std::string run_dir_of(const std::string& checkpoint_file) {
  const std::filesystem::path parent = std::filesystem::path(checkpoint_file).parent_path();
  if (parent.filename() != "checkpoints") return "";
  return parent.parent_path().string();
}

std::string report_html(const std::vector<ModelResult>& models, const std::vector<Comparison>& comparisons,
                        const std::string& created_at) {
  report::HtmlPage page("Evaluation report");
  page.paragraph(fmt::format("{} · tessera {}", escape(created_at), escape(checkpoint::software_version())));
  models_table(page, models);
  if (models.size() > 1) {
    page.paragraph("<span class=\"note\">Differences are against model 1, ± their standard error: paired over the "
                   "same examples where both models scored them, else combined; marked better or worse when |z| &gt; "
                   "1.96. ↓: lower is better, ↑: higher is better.</span>");
  }
  if (!models.empty()) {
    for (const TaskResult& task : models.front().tasks) task_section(page, models, comparisons, task);
  }
  training_section(page, models);
  page.heading(2, "Evaluation throughput");
  eval_speed_section(page, models);
  return page.str();
}

}  // namespace tessera::eval
