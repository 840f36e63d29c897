#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tessera::train {

double learning_rate(const TrainConfig& train, int64_t step) {
  if (step < train.warmup_steps) {
    return train.lr * static_cast<double>(step + 1) / static_cast<double>(train.warmup_steps);
  }
  const int64_t decay_steps = train.steps - train.warmup_steps;
  if (decay_steps <= 1) return train.lr;
  const double progress =
      std::clamp(static_cast<double>(step - train.warmup_steps) / static_cast<double>(decay_steps - 1), 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));  // 1 -> 0
  return train.min_lr + (train.lr - train.min_lr) * cosine;
}

}  // namespace tessera::train
