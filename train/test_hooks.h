#pragma once
// Fault injection for the tests of the trainer's guards and monitors, read from the environment
// by `tessera train` and `tessera run` (docs/training.md, docs/evaluation.md):
//   TESSERA_TEST_SPIKE_AT=STEP                    the loss seen at STEP (1-based) x 100, once
//   TESSERA_TEST_SLOW=RANK:FIRST:LAST:SECONDS     rank RANK sleeps SECONDS at the start of each
//                                                 step FIRST..LAST (1-based, inclusive): a slow
//                                                 rank (a straggler) or a slow or hung step
// A malformed value is an error naming the variable.
#include "train/trainer.h"

namespace tessera::train {

void apply_test_hooks(TrainOptions& options);

}  // namespace tessera::train
