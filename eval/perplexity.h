#pragma once
// Perplexity of a model on the token shards of a prepared split (the validation shards).
//
// Windows are the loader's (datasets/loader.h): window w holds stream tokens [w*T, w*T + T + 1),
// the model reads the first T and is scored on the last T, so every token but the first is
// scored once. Metrics, over the n windows scored:
//   mean_loss      total negative log-likelihood / scored tokens (nats per token)
//   perplexity     exp(mean_loss)
//   bits_per_byte  total NLL / (ln 2 * bytes of the scored tokens); a token's bytes are its
//                  tokenizer bytes, special tokens (end-of-text) count none
// Standard errors are over windows: mean_loss_stderr = mean_stderr of the per-window mean losses
// (windows are equally long), and the others follow by the delta method:
// perplexity * mean_loss_stderr and mean_loss_stderr * tokens / (ln 2 * bytes).
// Collective (see sharded.h): every rank of the model's dp x tp job calls perplexity() together.
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/communicator.h"
#include "serve/projection.h"

namespace tessera::eval {

struct WindowScore {
  double nll = 0;     // summed over the window's scored tokens (nats)
  double tokens = 0;  // scored tokens
  double bytes = 0;   // their bytes
};

struct PerplexityResult {
  size_t windows = 0;
  double tokens = 0, bytes = 0;
  double mean_loss = 0, mean_loss_stderr = 0;
  double perplexity = 0, perplexity_stderr = 0;
  double bits_per_byte = 0, bits_per_byte_stderr = 0;
  // Per window, values whose mean is the metric (windows are equally long): the window's mean
  // loss, and for perplexity and bits per byte its delta-method expansion metric + f' * (l_w -
  // mean l) (the per-example values that compare.h pairs).
  std::vector<double> window_loss, window_perplexity, window_bits_per_byte;
};

// The metrics of scored windows, summed in window order.
PerplexityResult summarize(const std::vector<WindowScore>& windows);

// Bytes of each token id of the model's vocabulary: (V,). Ids past the tokenizer's vocabulary
// and special tokens count 0.
std::vector<double> token_byte_counts(const datasets::Tokenizer& tokenizer, int64_t vocab);

struct PerplexityOptions {
  size_t batch_size = 8;    // windows per forward
  size_t max_windows = 0;   // 0: every window of the split
  bool batch_invariant = true;  // false: faster, identical across rank counts no longer promised
  // Not f32: score through the serving forward with the projections in this precision
  // (eval/serving_scorer.h), to measure what serving with bf16 or int8 weights costs.
  serve::WeightPrecision weights = serve::WeightPrecision::f32;
  bool progress = false;    // a progress line with rate and ETA (the root prints it)
};

// Scores the windows of `shards` (T = the model's seq_len). token_bytes: token_byte_counts.
PerplexityResult perplexity(core::Transformer& model, parallel::Communicator& dp, const std::vector<std::string>& shards,
                            const std::vector<double>& token_bytes, const PerplexityOptions& options);

}  // namespace tessera::eval
