#include "train/spike_detector.h"

#include <cmath>

namespace tessera::train {

double SpikeDetector::mean() const {
  if (losses_.empty()) return 0;
  double sum = 0;
  for (const double l : losses_) sum += l;
  return sum / static_cast<double>(losses_.size());
}

double SpikeDetector::stddev() const {
  if (losses_.size() < 2) return 0;
  const double m = mean();
  double sum = 0;
  for (const double l : losses_) sum += (l - m) * (l - m);
  return std::sqrt(sum / static_cast<double>(losses_.size() - 1));
}

bool SpikeDetector::is_spike(double loss) const {
  if (zscore_ <= 0 || static_cast<int64_t>(losses_.size()) < window_) return false;
  const double sd = stddev();
  return sd > 0 && (loss - mean()) / sd > zscore_;
}

void SpikeDetector::record(double loss) {
  if (window_ <= 0) return;
  losses_.push_back(loss);
  while (static_cast<int64_t>(losses_.size()) > window_) losses_.pop_front();
}

}  // namespace tessera::train
