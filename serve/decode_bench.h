#pragma once
// The decode benchmark behind `tessera bench decode`: for a batch of B requests of P prompt tokens
// generating G tokens each, the prompt (prefill) tokens/s and the decode tokens/s of the engine,
// and decode as a fraction of the memory-bandwidth bound. A decode step reads every weight once
// whatever the batch, so at batch B the bound is B * bandwidth / weight bytes tokens/s, with the
// bandwidth measured in the same process (memory_read_gbs).
#include <cstdint>

#include "core/model/transformer.h"
#include "serve/engine.h"

namespace tessera::serve {

struct DecodeBenchRow {
  int64_t batch = 0;
  double prompt_tok_s = 0, decode_tok_s = 0;
  // Decode tokens per second of this process's CPU time (all its threads): on a machine shared
  // with other processes, what one thread (OMP_NUM_THREADS=1) would reach with the core to itself,
  // less the caches the others take.
  double decode_cpu_tok_s = 0;
  double bound_tok_s = 0;     // B * bandwidth / weight bytes
  double bound_fraction = 0;  // decode_tok_s / bound_tok_s
  int64_t weight_bytes = 0;   // what one decode step reads
};

// The best read bandwidth (GB/s) of summing a buffer of `bytes` with this process's threads, over
// repetitions lasting at least min_seconds.
double memory_read_gbs(int64_t bytes = int64_t{512} << 20, double min_seconds = 0.5);

// One batch size on the engine: B requests of P random prompt tokens (ids of the model's
// vocabulary), greedy, G tokens each (end-of-text ignored), the whole batch's prompts in one step;
// run twice on one engine, the second run timed (the first warms its buffers up).
// options: the engine's precision and batch-invariance settings (its cache and scheduler are sized
// here). The bound counts the weight bytes in their precision (InferenceForward::weight_bytes).
DecodeBenchRow bench_decode(core::Transformer& model, int64_t batch, int64_t prompt_len, int64_t gen_len,
                            double bandwidth_gbs, EngineOptions options = {});

}  // namespace tessera::serve
