#include "report/run_page.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checkpoint/format.h"
#include "core/error.h"
#include "datasets/manifest.h"
#include "run/run_progress.h"
#include "report/html_page.h"
#include "report/run_metrics.h"
#include "report/svg_chart.h"

namespace fs = std::filesystem;

namespace tessera::report {

namespace {

std::string number(double v, const char* format = "{:.4f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(format), v) : "–";
}

double median_of(std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.empty()) return NAN;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// The events of the given kinds as chart markers; the latest 200.
std::vector<Marker> markers(const RunMetrics& rm, std::initializer_list<std::string_view> kinds) {
  std::vector<Marker> out;
  for (const Event& e : rm.events) {
    if (std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end()) continue;
    out.push_back({static_cast<double>(e.step),
                   fmt::format("step {}: {}{}{}", e.step, e.kind, e.rank >= 0 ? fmt::format(" (rank {})", e.rank) : "",
                               e.message.empty() ? "" : ": " + e.message)});
  }
  if (out.size() > 200) out.erase(out.begin(), out.end() - 200);
  return out;
}

LineChart step_chart(const RunMetrics& rm, std::string id, std::string title, std::string y_label,
                     double StepRecord::*field) {
  return {std::move(id), std::move(title), "step", std::move(y_label),
          {{y_label, steps_of(rm.steps), column(rm.steps, field)}}, {}, false};
}

LineChart loss_chart(const RunMetrics& rm) {
  LineChart c = step_chart(rm, "loss", "Loss", "loss (nats/token)", &StepRecord::loss);
  c.series[0].name = "train";
  std::vector<double> vx, vy;
  for (const StepRecord& s : rm.steps) {
    if (std::isfinite(s.val_loss)) {
      vx.push_back(static_cast<double>(s.step));
      vy.push_back(s.val_loss);
    }
  }
  c.series.push_back({"validation", vx, vy});
  c.markers = markers(rm, {"rollback", "nonfinite", "loss_spike", "hung_step"});
  return c;
}

LineChart rank_chart(const RunMetrics& rm) {
  LineChart c{"rank-step-times", "Busy time per step by rank (without gradient-sync waits)", "step", "seconds", {}, {},
              false};
  size_t ranks = 0;
  for (const StepRecord& s : rm.steps) ranks = std::max(ranks, s.rank_step_s.size());
  for (size_t r = 0; r < ranks; ++r) {
    Series series{fmt::format("rank {}", r), {}, {}};
    for (const StepRecord& s : rm.steps) {
      if (r < s.rank_step_s.size()) {
        series.x.push_back(static_cast<double>(s.step));
        series.y.push_back(s.rank_step_s[r]);
      }
    }
    c.series.push_back(std::move(series));
  }
  c.markers = markers(rm, {"straggler"});
  return c;
}

// Evaluation results in RUN_DIR/*/results.json, by checkpoint step: "task metric value" lines.
std::map<int64_t, std::vector<std::string>> eval_results(const fs::path& run_dir) {
  std::map<int64_t, std::vector<std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    const fs::path file = entry.path() / "results.json";
    if (!entry.is_directory() || !fs::exists(file)) continue;
    std::ifstream in(file);
    const auto j = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);  // tasks in file order
    if (!j.is_object() || j.value("format", "") != "tessera-eval-results" || !j["models"].is_array()) continue;
    for (const auto& m : j["models"]) {
      if (!m.is_object() || !m.contains("checkpoint") || !m["checkpoint"].is_object() || !m.contains("tasks")) continue;
      const int64_t step = m["checkpoint"].value("step", int64_t{-1});
      for (const auto& [task, t] : m["tasks"].items()) {
        if (!t.is_object() || !t.contains("metrics") || !t["metrics"].is_object()) continue;
        for (const auto& [metric, v] : t["metrics"].items()) {
          if (!v.is_object() || !v.contains("value") || !v["value"].is_number()) continue;
          out[step].push_back(fmt::format("{} {} {:.4f} ± {:.4f} <span class=\"note\">({})</span>", escape(task),
                                          escape(metric), v["value"].get<double>(), v.value("stderr", 0.0),
                                          escape(entry.path().filename().string())));
        }
      }
    }
  }
  return out;
}

void checkpoints_table(HtmlPage& page, const fs::path& run_dir) {
  std::map<int64_t, std::string> files;  // step -> file name
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("step-") || !name.ends_with(".h5")) continue;
    files[std::atoll(name.substr(5).c_str())] = name;
  }
  const auto evals = eval_results(run_dir);
  std::map<int64_t, bool> steps;
  for (const auto& [step, name] : files) steps[step] = true;
  for (const auto& [step, lines] : evals) steps[step] = true;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [step, unused] : steps) {
    const auto f = files.find(step);
    const auto e = evals.find(step);
    std::string results;
    if (e != evals.end()) {
      for (const std::string& line : e->second) results += (results.empty() ? "" : "<br>") + line;
    }
    rows.push_back({std::to_string(step),
                    f != files.end() ? "<code>" + escape(f->second) + "</code>" : "(removed)",
                    results.empty() ? "–" : results});
  }
  page.heading(2, "Checkpoints");
  if (rows.empty()) {
    page.paragraph("No checkpoints yet.");
  } else {
    page.table({"step", "file", "evaluation"}, rows);
  }
}

void events_table(HtmlPage& page, const RunMetrics& rm) {
  page.heading(2, "Anomalies and events");
  if (rm.events.empty()) {
    page.paragraph("None: no non-finite or spiking losses, throughput drops, hung steps or stragglers were recorded.");
    return;
  }
  constexpr size_t kShown = 200;  // the latest; a long run's page stays readable and small
  std::vector<std::vector<std::string>> rows;
  for (size_t i = rm.events.size() > kShown ? rm.events.size() - kShown : 0; i < rm.events.size(); ++i) {
    const Event& e = rm.events[i];
    rows.push_back({std::to_string(e.step), escape(e.kind), e.rank >= 0 ? std::to_string(e.rank) : "all",
                    escape(e.message)});
  }
  if (rm.events.size() > kShown) {
    page.paragraph(fmt::format("The latest {} of {} (all are in metrics.jsonl).", kShown, rm.events.size()));
  }
  page.table({"step", "kind", "rank", "message"}, rows, "anomaly");
}

}  // namespace

std::string run_page_html(const fs::path& run_dir) {
  const RunMetrics rm = read_run_metrics(run_dir / "metrics.jsonl");
  const RunProgress progress = read_progress(run_dir);
  HtmlPage page("Run " + fs::absolute(run_dir).lexically_normal().filename().string());
  const auto skipped = std::count_if(rm.steps.begin(), rm.steps.end(), [](const StepRecord& s) { return s.skipped; });
  const auto rollbacks = std::count_if(rm.events.begin(), rm.events.end(), [](const Event& e) { return e.kind == "rollback"; });
  const StepRecord last = rm.steps.empty() ? StepRecord{} : rm.steps.back();
  page.table({},
             {{"run directory", "<code>" + escape(fs::absolute(run_dir).lexically_normal().string()) + "</code>"},
              {"step", progress.steps ? fmt::format("{} of {}", progress.step, *progress.steps) : std::to_string(progress.step)},
              {"state", progress.complete ? "complete" : "running or stopped"},
              {"last loss", number(last.loss)},
              {"last validation loss", number(progress.val_loss.value_or(NAN))},
              {"median tokens/s", number(median_of(column(rm.steps, &StepRecord::tokens_per_s)), "{:.0f}")},
              {"median MFU", number(median_of(column(rm.steps, &StepRecord::mfu)), "{:.3f}")},
              {"skipped steps", std::to_string(skipped)},
              {"rollbacks", std::to_string(rollbacks)},
              {"anomalies and events", std::to_string(rm.events.size())},
              {"unreadable metrics lines", std::to_string(rm.bad_lines)}});
  page.heading(2, "Training");
  page.raw("<div class=\"charts\">" + svg(loss_chart(rm)) +
           svg(step_chart(rm, "lr", "Learning rate", "learning rate", &StepRecord::lr)) +
           svg(step_chart(rm, "grad-norm", "Gradient norm (before clipping)", "L2 norm", &StepRecord::grad_norm)) + "</div>");
  page.heading(2, "Performance");
  LineChart throughput = step_chart(rm, "throughput", "Throughput", "tokens/s", &StepRecord::tokens_per_s);
  throughput.markers = markers(rm, {"throughput_drop", "hung_step"});
  page.raw("<div class=\"charts\">" + svg(throughput) +
           svg(step_chart(rm, "mfu", "Model FLOPs utilisation (monitor.peak_tflops)", "MFU", &StepRecord::mfu)) +
           svg(rank_chart(rm)) + "</div>");
  events_table(page, rm);
  checkpoints_table(page, run_dir);
  page.paragraph("<span class=\"note\">Written " + escape(checkpoint::utc_now_iso8601()) + " from " + escape((run_dir / "metrics.jsonl").string()) +
                 "; rewritten at each checkpoint, and by <code>tessera report RUN_DIR</code>.</span>");
  return page.str();
}

fs::path write_run_page(const fs::path& run_dir) {
  TESSERA_CHECK(fs::is_directory(run_dir), "{} is not a directory", run_dir.string());
  TESSERA_CHECK(fs::exists(run_dir / "metrics.jsonl") || fs::exists(run_dir / "config.toml"),
                "{} is not a run directory (no metrics.jsonl or config.toml)", run_dir.string());
  const fs::path out = run_dir / "report.html";
  datasets::write_file_atomically(out.string(), run_page_html(run_dir));
  return out;
}

}  // namespace tessera::report
