#pragma once
// Loss spikes: a step whose loss stands more than `zscore` standard deviations above the mean of
// the last `window` applied steps. The trainer answers one by rolling back to the newest good
// checkpoint and skipping the data from there to the spike (docs/training.md), as large runs do
// by hand. Local and deterministic: every rank sees the same global losses, and the ranks still
// agree on the verdict in the step's all-reduce.
#include <cstdint>
#include <deque>

namespace tessera::train {

class SpikeDetector {
 public:
  // zscore <= 0: never a spike.
  SpikeDetector(double zscore, int64_t window) : zscore_(zscore), window_(window) {}

  // Whether `loss` is a spike against the window (which must be full). Does not record it.
  bool is_spike(double loss) const;
  // Adds the loss of a step that was applied, dropping the oldest beyond the window.
  void record(double loss);
  // Forgets the history (after a rollback the window fills again from the restored weights).
  void reset() { losses_.clear(); }
  // The window's mean and standard deviation (for messages); 0 when empty.
  double mean() const;
  double stddev() const;

 private:
  double zscore_;
  int64_t window_;
  std::deque<double> losses_;
};

}  // namespace tessera::train
