#pragma once
// Learning rate: linear warmup to train.lr over warmup_steps, then cosine decay to train.min_lr at
// the last step (as GPT-2 / llm.c train). Steps are 0-based.
#include <cstdint>

#include "run/config.h"

namespace tessera::train {

double learning_rate(const TrainConfig& train, int64_t step);

}  // namespace tessera::train
