#include "eval/stats.h"

#include <cmath>

namespace tessera::eval {

double mean_stderr(const std::vector<double>& values) {
  const auto n = static_cast<double>(values.size());
  if (values.size() < 2) return 0.0;
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (n - 1)) / std::sqrt(n);
}

double proportion_stderr(double p, double n) { return n > 0 ? std::sqrt(p * (1 - p) / n) : 0.0; }

}  // namespace tessera::eval
