#pragma once
// Generation tasks on the serving engine (serve/engine.h): each item's prompt is continued
// greedily (temperature 0) until a stop string, the end-of-text token, its max_tokens or the
// model's context, and the output is scored against its references (text_match.h):
//   exact_match  share of items whose output matches a reference exactly (after normalisation);
//                stderr sqrt(p (1 - p) / n), as acc
//   f1           mean token-level F1, stderr sd / sqrt(n) (sample sd), as mean_loss
// A prompt is encoded as is (an empty one becomes the end-of-text token) and cropped from the
// left to seq_len - 1 tokens, so at least one token can be generated.
//
// Sharding, as sharded.h: items are cut into chunks of batch_size in order, chunk k runs as one
// batch (continuous batching) on a fresh engine on dp rank k % dp; every rank of a tensor-parallel
// group runs the same engine on the same chunks. A chunk's items and the engine's state do not
// depend on the dp count, so neither do the outputs. The outputs are then shared over dp by sum all-reduces in which each entry has one
// non-zero contributor (exact), and every rank scores every item.
// Collective on the dp communicator and the model's tp group.
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "eval/generation_task.h"
#include "parallel/communicator.h"

namespace tessera::eval {

struct GenItemResult {
  std::string prompt;
  std::vector<std::string> references;
  std::string output;  // the generated text (stop strings cut)
  std::string finish;  // "stop" or "length"
  int64_t tokens = 0;  // tokens generated
  double exact_match = 0, f1 = 0;
};

struct GenResult {
  size_t n = 0;
  double exact_match = 0, exact_match_stderr = 0;
  double f1 = 0, f1_stderr = 0;
  std::vector<GenItemResult> items;
};

struct GenOptions {
  size_t batch_size = 8;      // requests per engine batch
  size_t max_items = 0;       // 0: every item
  int64_t max_tokens = 32;    // for items that give none
  bool batch_invariant = true;  // false: faster, identical across rank counts no longer promised
  bool progress = false;
};

// Scores outputs already generated (items[i] -> outputs[i].output); fills the rest.
GenResult summarize_generation(const std::vector<GenItem>& items, std::vector<GenItemResult> outputs);

GenResult run_generation(core::Transformer& model, parallel::Communicator& dp, const datasets::Tokenizer& tokenizer,
                         const GenTask& task, const GenOptions& options);

}  // namespace tessera::eval
