#pragma once
// The optimizer the training loop drives, whichever way its state is held: replicated AdamW
// (optimizer.h: every data-parallel rank keeps the whole state) or ZeRO-1 (zero_adamw.h: each
// keeps a 1/dp shard). Both update from the gradients the data-parallel sync left them and keep
// fp32 master weights; the loop calls clip_gradients, then step, on every rank in the same order.
#include <cstdint>
#include <vector>

namespace tessera::train {

// Elements [flat_begin, flat_begin + count) of the parameters' flat layout whose AdamW moments
// this rank holds, at m and v (f32).
struct MomentSpan {
  int64_t flat_begin = 0, count = 0;
  float* m = nullptr;
  float* v = nullptr;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Scales the gradients the next step reads so that the whole model's gradient has global L2
  // norm at most max_norm (0: never); returns the norm before clipping. Collective (tp, and dp
  // for ZeRO-1).
  virtual double clip_gradients(double max_norm) = 0;
  // One update of the parameters with learning rate lr; counts the step. Collective for ZeRO-1
  // (the updated shards are all-gathered).
  virtual void step(double lr) = 0;
  // The moments this rank holds, in flat-layout order (checkpoints read and restore them).
  virtual std::vector<MomentSpan> moments() = 0;
  // true: data-parallel ranks hold different spans (ZeRO-1); false: every replica the same.
  virtual bool partitioned_over_dp() const = 0;

  int64_t steps_taken() const { return step_; }
  void set_steps_taken(int64_t steps) { step_ = steps; }  // resuming from a checkpoint

 protected:
  int64_t step_ = 0;
};

}  // namespace tessera::train
