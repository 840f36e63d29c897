#pragma once
// Standard errors of evaluation metrics (analytic, as lm-evaluation-harness reports them).
#include <vector>

namespace tessera::eval {

// The standard error of the mean of `values`: sample standard deviation (n - 1) / sqrt(n); 0 for
// fewer than two values. Sums run in order, in double.
double mean_stderr(const std::vector<double>& values);

// The standard error of an accuracy p measured on n items: sqrt(p (1 - p) / n); 0 for n = 0.
double proportion_stderr(double p, double n);

}  // namespace tessera::eval
