#pragma once
// Differences between model versions, each against the first model, with a significance test.
//
// Every metric carries per-example values whose mean is the metric (Metric::per_example in
// results.h: a window's mean loss, an item's 0/1 correctness, or for a nonlinear metric its
// first-order (delta-method) expansion value + f'(mean) * (x_i - mean)). Two models scored on the
// same examples (the same task, source and n) are compared **paired**: d_i = b_i - a_i, the
// difference mean(d) = b - a exactly, its standard error the sample standard deviation of d over
// sqrt(n), z = difference / stderr (a paired z-test: for acc it is the normal approximation of
// McNemar's test). Otherwise **unpaired**: stderr = sqrt(se_a^2 + se_b^2). A difference is
// significant when |z| > 1.96 (two-sided, 5%), and marked "better" or "worse" by the metric's
// direction (losses, perplexity, bits per byte: lower is better; accuracies: higher).
#include <string>
#include <vector>

#include "eval/results.h"

namespace tessera::eval {

// Whether a smaller value of the metric is the better one.
bool lower_is_better(const std::string& metric);

struct Comparison {
  std::string task, metric;
  size_t model = 0, baseline = 0;  // indices into the models (baseline: 0)
  double difference = 0;           // model - baseline
  double stderr_value = 0;
  double z = 0;                    // difference / stderr (0 when stderr is 0)
  bool paired = false;
  bool significant = false;        // |z| > 1.96
  std::string mark;                // "better", "worse" or "" (not significant)
};

inline constexpr double kSignificanceZ = 1.96;

// One per (model from the second on, task and metric both have), in model, task, metric order.
std::vector<Comparison> compare(const std::vector<ModelResult>& models);

}  // namespace tessera::eval
