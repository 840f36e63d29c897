#include "eval/compare.h"

#include <cmath>

#include "eval/stats.h"

namespace tessera::eval {

namespace {

Comparison compare_metric(const TaskResult& ta, const Metric& a, const TaskResult& tb, const Metric& b) {
  Comparison c;
  c.task = ta.name;
  c.metric = a.name;
  c.difference = b.value - a.value;
  c.paired = ta.source == tb.source && ta.n == tb.n && a.per_example.size() == ta.n && b.per_example.size() == tb.n &&
             ta.n >= 2;
  if (c.paired) {
    std::vector<double> d(ta.n);
    for (size_t i = 0; i < d.size(); ++i) d[i] = b.per_example[i] - a.per_example[i];
    c.stderr_value = mean_stderr(d);
  } else {
    c.stderr_value = std::sqrt(a.stderr_value * a.stderr_value + b.stderr_value * b.stderr_value);
  }
  c.z = c.stderr_value > 0 ? c.difference / c.stderr_value : 0.0;
  c.significant = std::abs(c.z) > kSignificanceZ;
  if (c.significant) c.mark = (c.difference < 0) == lower_is_better(a.name) ? "better" : "worse";
  return c;
}

}  // namespace

bool lower_is_better(const std::string& metric) {
  return metric == "mean_loss" || metric == "perplexity" || metric == "bits_per_byte";
}

std::vector<Comparison> compare(const std::vector<ModelResult>& models) {
  std::vector<Comparison> out;
  if (models.empty()) return out;
  for (size_t k = 1; k < models.size(); ++k) {
    for (const TaskResult& ta : models.front().tasks) {
      const TaskResult* tb = find_task(models[k], ta.name);
      if (!tb) continue;
      for (const Metric& a : ta.metrics) {
        const Metric* b = find_metric(*tb, a.name);
        if (!b) continue;
        Comparison c = compare_metric(ta, a, *tb, *b);
        c.model = k;
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

}  // namespace tessera::eval
