#pragma once
// `tessera eval`: every checkpoint given, loaded in turn across the job (eval_model.h), scored on
// the tasks given, or with none given on its validation shards (perplexity, from its config's
// data.dir) and the built-in cloze task made from them; the root writes the report directory
// (results.h). Collective on the world: every rank calls evaluate() with the same options.
// Bad input (an unknown checkpoint, missing data, a malformed task file, a report directory that
// cannot be written) throws the same clear error on every rank, before any scoring.
#include <string>
#include <vector>

#include "eval/cloze.h"
#include "eval/results.h"
#include "parallel/world.h"
#include "serve/projection.h"

namespace tessera::eval {

struct EvalOptions {
  std::vector<std::string> ckpts;
  std::vector<std::string> tasks;  // task files or directories; empty: perplexity and cloze
  std::string report_dir;
  std::string tokenizer;           // empty: the checkpoint's own
  size_t max_items = 0;            // per task (windows for perplexity); 0: all
  size_t batch_size = 8;
  int tp = 1;
  bool batch_invariant = true;     // false (--fast): the BLAS forward, see likelihood.h
  // Validation perplexity through the serving forward with these weights (perplexity.h); the
  // multiple-choice tasks stay on the f32 training forward.
  serve::WeightPrecision weights = serve::WeightPrecision::f32;
  ClozeOptions cloze;
  bool progress = true;
};

std::vector<ModelResult> evaluate(const parallel::World& world, const EvalOptions& options);

}  // namespace tessera::eval
