#include "report/run_metrics.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tessera::report {

namespace {

double number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}

Event rollback_event(const nlohmann::json& j, int64_t step) {
  return {step, "rollback", -1,
          fmt::format("loss spike at step {} ({}): rolled back to step {}, data of {} step(s) skipped",
                      j.value("spike_step", int64_t{0}), number(j, "spike_loss"), step,
                      j.value("skipped_data_steps", int64_t{0}))};
}

}  // namespace

RunMetrics read_run_metrics(const std::filesystem::path& metrics_jsonl) {
  RunMetrics out;
  std::ifstream in(metrics_jsonl);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) {
      ++out.bad_lines;
      continue;
    }
    const auto step = j["step"].get<int64_t>();
    if (j.contains("event")) {
      if (j["event"] == "rollback") out.events.push_back(rollback_event(j, step));
      continue;
    }
    if (const auto it = j.find("anomalies"); it != j.end() && it->is_array()) {
      for (const auto& a : *it) {
        if (!a.is_object()) continue;
        out.events.push_back({a.value("step", step), a.value("kind", ""), a.value("rank", -1), a.value("message", "")});
      }
    }
    StepRecord r;
    r.step = step;
    r.loss = number(j, "loss");
    r.lr = number(j, "lr");
    r.grad_norm = number(j, "grad_norm");
    r.tokens_per_s = number(j, "tokens_per_s");
    r.step_s = number(j, "step_s");
    r.val_loss = number(j, "val_loss");
    r.mfu = number(j, "mfu");
    r.skipped = j.value("skipped", false);
    if (const auto it = j.find("rank_step_s"); it != j.end() && it->is_array()) {
      for (const auto& v : *it) r.rank_step_s.push_back(v.is_number() ? v.get<double>() : NAN);
    }
    out.steps.push_back(std::move(r));
  }
  return out;
}

std::vector<double> steps_of(const std::vector<StepRecord>& steps) {
  std::vector<double> x;
  for (const StepRecord& s : steps) x.push_back(static_cast<double>(s.step));
  return x;
}

std::vector<double> column(const std::vector<StepRecord>& steps, double StepRecord::*field) {
  std::vector<double> y;
  for (const StepRecord& s : steps) y.push_back(s.*field);
  return y;
}

}  // namespace tessera::report
