#include "serve/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/vec_math.h"
#include "core/error.h"

namespace tessera::serve {

void SamplingParams::validate() const {
  TESSERA_CHECK(max_tokens >= 1, "max_tokens must be >= 1, got {}", max_tokens);
  TESSERA_CHECK(temperature >= 0 && std::isfinite(temperature), "temperature must be >= 0, got {}", temperature);
  TESSERA_CHECK(top_k >= 0, "top_k must be >= 0, got {}", top_k);
  TESSERA_CHECK(top_p > 0 && top_p <= 1, "top_p must be in (0, 1], got {}", top_p);
  TESSERA_CHECK(min_p >= 0 && min_p <= 1, "min_p must be in [0, 1], got {}", min_p);
  TESSERA_CHECK(repetition_penalty > 0 && std::isfinite(repetition_penalty), "repetition_penalty must be > 0, got {}",
                repetition_penalty);
  TESSERA_CHECK(std::isfinite(presence_penalty) && std::isfinite(frequency_penalty),
                "presence and frequency penalties must be finite");
  TESSERA_CHECK(logprobs >= -1, "logprobs must be >= 0 (or absent), got {}", logprobs);
  for (const auto& s : stop) TESSERA_CHECK(!s.empty(), "a stop string is empty");
}

std::vector<double> log_softmax(const float* logits, int64_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> lp(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) lp[i] = static_cast<double>(logits[i]) - lse;
  return lp;
}

namespace {
// The index of the first largest of x (n >= 1), in two vectorised passes; NaN never wins (an
// all-NaN x gives 0).
TESSERA_SIMD_CLONES int64_t first_argmax(const float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] == mx) return i;
  }
  return 0;
}

// Orders (id, value) pairs by value, largest first, ties by the lower id.
bool more_likely(const TokenLogprob& a, const TokenLogprob& b) {
  return a.logprob != b.logprob ? a.logprob > b.logprob : a.id < b.id;
}
}  // namespace

std::vector<TokenLogprob> top_logprobs(const std::vector<double>& lp, int64_t k) {
  std::vector<TokenLogprob> all(lp.size());
  for (size_t i = 0; i < lp.size(); ++i) all[i] = {static_cast<int32_t>(i), lp[i]};
  k = std::min<int64_t>(k, static_cast<int64_t>(all.size()));
  std::partial_sort(all.begin(), all.begin() + k, all.end(), more_likely);
  all.resize(static_cast<size_t>(k));
  return all;
}

Sampler::Sampler(const SamplingParams& params, int64_t vocab_limit, const std::vector<int32_t>& prompt)
    : params_(params), vocab_limit_(vocab_limit), rng_(params.seed) {
  params_.validate();
  TESSERA_CHECK(vocab_limit >= 1, "a sampler needs a vocabulary of at least one token");
  for (int32_t id : prompt) ++seen_[id];
}

void Sampler::penalise(const float* logits, int64_t n) const {
  work_.assign(logits, logits + n);
  std::vector<double>& l = work_;
  const double rep = params_.repetition_penalty;
  if (rep != 1.0) {
    for (const auto& [id, count] : seen_) {
      if (id < n) l[id] = l[id] > 0 ? l[id] / rep : l[id] * rep;
    }
  }
  for (const auto& [id, count] : generated_) {
    if (id < n) l[id] -= params_.presence_penalty + params_.frequency_penalty * static_cast<double>(count);
  }
}

std::vector<TokenLogprob> Sampler::candidates(const float* logits, int64_t V) const {
  const int64_t n = std::min(V, vocab_limit_);
  const bool penalties = params_.repetition_penalty != 1.0 || params_.presence_penalty != 0.0 ||
                         params_.frequency_penalty != 0.0;
  if (params_.temperature == 0 && !penalties) {  // the logits as they are: no copy
    return {{static_cast<int32_t>(first_argmax(logits, n)), 1.0}};
  }
  penalise(logits, n);
  const std::vector<double>& l = work_;
  if (params_.temperature == 0) {
    const auto best = std::max_element(l.begin(), l.end()) - l.begin();  // the first of equal maxima
    return {{static_cast<int32_t>(best), 1.0}};
  }
  std::vector<TokenLogprob> c(static_cast<size_t>(n));  // (id, probability)
  const double mx = *std::max_element(l.begin(), l.end());
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    c[i] = {static_cast<int32_t>(i), std::exp((l[i] - mx) / params_.temperature)};
    sum += c[i].logprob;
  }
  for (auto& x : c) x.logprob /= sum;
  std::sort(c.begin(), c.end(), more_likely);
  if (params_.top_k > 0 && params_.top_k < n) c.resize(static_cast<size_t>(params_.top_k));
  if (params_.top_p < 1) {  // the shortest head whose mass reaches top_p (at least one token)
    double mass = 0;
    size_t keep = 0;
    while (keep < c.size() && (keep == 0 || mass < params_.top_p)) mass += c[keep++].logprob;
    c.resize(keep);
  }
  if (params_.min_p > 0) {
    const double floor = params_.min_p * c.front().logprob;
    c.erase(std::remove_if(c.begin() + 1, c.end(), [&](const TokenLogprob& x) { return x.logprob < floor; }),
            c.end());
  }
  double kept = 0;
  for (const auto& x : c) kept += x.logprob;
  for (auto& x : c) x.logprob /= kept;
  return c;
}

SampledToken Sampler::sample(const float* logits, int64_t V) {
  const std::vector<TokenLogprob> c = candidates(logits, V);
  // A uniform draw in [0, 1) from the top 53 bits: the same on every platform.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  size_t pick = 0;
  for (double acc = c[0].logprob; pick + 1 < c.size() && acc <= u; acc += c[++pick].logprob) {
  }
  SampledToken out;
  out.id = c[pick].id;
  const int64_t n = std::min(V, vocab_limit_);
  if (params_.logprobs >= 0) {
    const std::vector<double> lp = log_softmax(logits, n);
    out.logprob = lp[static_cast<size_t>(out.id)];
    out.top = top_logprobs(lp, params_.logprobs);
  }
  ++seen_[out.id];
  ++generated_[out.id];
  return out;
}

}  // namespace tessera::serve
