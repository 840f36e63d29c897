#pragma once
// Helpers for gradient checks: random vectors and central finite differences in double precision.
// With eps = 1e-6 the truncation error is O(eps^2) ~ 1e-12 and the rounding error ~ 1e-16/eps
// = 1e-10, so analytic and numeric gradients of smooth functions agree to ~1e-8: a tolerance of
// 1e-6 (relative, or absolute for small values) catches any wrong term.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace tessera::test {

inline std::vector<double> randn(size_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> nd(0.0, scale);
  std::vector<double> v(n);
  for (double& x : v) x = nd(gen);
  return v;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Compares analytic[i] with the central difference of loss() w.r.t. x[i], for every i.
template <typename Loss>
void expect_gradient(std::vector<double>& x, const std::vector<double>& analytic, Loss&& loss,
                     const std::string& what, double eps = 1e-6, double tol = 1e-6) {
  ASSERT_EQ(x.size(), analytic.size()) << what;
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + eps;
    const double lp = loss();
    x[i] = saved - eps;
    const double lm = loss();
    x[i] = saved;
    const double numeric = (lp - lm) / (2 * eps);
    ASSERT_NEAR(analytic[i], numeric, tol * std::max(1.0, std::abs(numeric)))
        << what << " element " << i;
  }
}

}  // namespace tessera::test
