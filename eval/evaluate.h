#pragma once
// `tessera eval`: every checkpoint given, then every model file, loaded in turn across the job
// (eval_model.h), scored on the tasks given (multiple choice or generation, task_file.h), or with
// none given on its validation shards (perplexity, from --data or its config's data.dir) and the
// built-in cloze task made from them; the root writes the report directory (results.h). Collective on the world: every rank calls evaluate() with the same options.
// Bad input (an unknown checkpoint, missing data, a malformed task file, a report directory that
// cannot be written) throws the same clear error on every rank, before any scoring.
#include <string>
#include <vector>

#include "checkpoint/format.h"
#include "run/config.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "eval/cloze.h"
#include "eval/results.h"
#include "parallel/world.h"
#include "serve/projection.h"

namespace tessera::eval {

struct EvalOptions {
  std::vector<std::string> ckpts;
  std::vector<std::string> models;  // GGUF files or Hugging Face folders, after the checkpoints
  std::vector<std::string> tasks;  // task files or directories; empty: perplexity and cloze
  std::string data_dir;            // prepared data for perplexity and cloze; empty: the checkpoint's
  std::string report_dir;
  std::string tokenizer;           // empty: the checkpoint's own
  size_t max_items = 0;            // per task (windows for perplexity); 0: all
  size_t batch_size = 8;
  int64_t max_tokens = 32;         // generation tasks: tokens per item that gives no max_tokens
  int tp = 1;
  bool batch_invariant = true;     // false (--fast): the BLAS forward, see likelihood.h
  // Validation perplexity through the serving forward with these weights (perplexity.h); the
  // multiple-choice tasks stay on the f32 training forward.
  serve::WeightPrecision weights = serve::WeightPrecision::f32;
  ClozeOptions cloze;
  bool progress = true;
};

std::vector<ModelResult> evaluate(const parallel::World& world, const EvalOptions& options);

// A model already in memory across the job (`tessera run`'s eval phase: the weights just
// trained), with what describes it in the report. Pointers are borrowed.
struct LoadedModel {
  std::string ref, file;  // as shown in the report; file: the checkpoint of these weights, if any
  checkpoint::Meta meta;  // step, tokens_seen, lineage, tokenizer hash, config
  const Config* config = nullptr;
  core::Transformer* model = nullptr;
  parallel::Communicator* dp = nullptr;  // the data-parallel group that shares the work
  const datasets::Tokenizer* tokenizer = nullptr;
};

// Scores `model` on the options' tasks (options.ckpts is ignored) and writes the report
// directory for it alone. Collective, as evaluate().
ModelResult evaluate_loaded(const parallel::World& world, const LoadedModel& model, const EvalOptions& options);

}  // namespace tessera::eval
