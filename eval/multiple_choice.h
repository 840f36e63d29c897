#pragma once
// Multiple-choice scoring by log-likelihood (as lm-evaluation-harness's loglikelihood tasks): each
// choice is scored by the log-likelihood of its tokens given the context's, context and choice
// encoded separately and joined (an empty context is replaced by the end-of-text token), the
// sequence cropped from the left to seq_len + 1 tokens.
//   acc       share of items whose highest-likelihood choice is the label
//   acc_norm  the same with each log-likelihood divided by its choice's length in bytes
// Each with stderr sqrt(p (1 - p) / n). Ties go to the first choice.
// Collective (see sharded.h): every rank of the model's job calls score_task together.
#include <vector>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "eval/likelihood.h"
#include "eval/task_file.h"
#include "parallel/communicator.h"

namespace tessera::eval {

struct ItemResult {
  std::vector<double> log_likelihoods;  // (choices,)
  size_t prediction = 0, prediction_norm = 0;
  size_t label = 0;
};

struct McResult {
  size_t n = 0;
  double acc = 0, acc_stderr = 0;
  double acc_norm = 0, acc_norm_stderr = 0;
  std::vector<ItemResult> items;
};

// The predictions and metrics of items whose choices' log-likelihoods are known.
McResult summarize(const std::vector<McItem>& items, std::vector<std::vector<double>> log_likelihoods);

// The sequence scoring choice `choice` of `item`.
Request choice_request(const McItem& item, size_t choice, const datasets::Tokenizer& tokenizer, int64_t seq_len);

struct McOptions {
  size_t batch_size = 8;   // sequences per forward
  size_t max_items = 0;    // 0: every item
  bool batch_invariant = true;  // false: faster, identical across rank counts no longer promised
  bool progress = false;   // a progress line with rate and ETA (the root prints it)
};

McResult score_task(core::Transformer& model, parallel::Communicator& dp, const datasets::Tokenizer& tokenizer,
                    const McTask& task, const McOptions& options);

}  // namespace tessera::eval
