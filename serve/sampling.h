#pragma once
// Sampling of the next token of a request from one row of logits, with per-request parameters:
// greedy, temperature, top-k, top-p, min-p, repetition/presence/frequency penalties and a seed.
//
// Order (as Hugging Face and vLLM): penalties on the logits, then greedy takes the argmax, or the
// logits are divided by the temperature, softmaxed, cut by top-k, top-p and min-p, renormalised,
// and one token is drawn with the request's own generator. The generator belongs to the request,
// so the same seed gives the same tokens whatever else shares the batch.
//
// Only ids below the tokenizer's vocabulary size are candidates: a model vocabulary padded past it
// (GPT-2's 50257 padded to 50304) never yields an id the tokenizer cannot decode.
//
// Log-probabilities reported are the model's: the log-softmax of the raw logits over the
// tokenizer's vocabulary, before penalties, temperature and cuts (what evaluation scores).
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace tessera::serve {

struct SamplingParams {
  int64_t max_tokens = 16;            // tokens to generate, >= 1
  double temperature = 0.0;           // 0: greedy
  int64_t top_k = 0;                  // 0: no cut
  double top_p = 1.0;                 // (0, 1]; 1: no cut
  double min_p = 0.0;                 // [0, 1]; drop tokens less likely than min_p * the most likely
  double repetition_penalty = 1.0;    // > 0; tokens of the prompt and output: l > 0 ? l/p : l*p
  double presence_penalty = 0.0;      // minus this once for every token already generated
  double frequency_penalty = 0.0;     // minus this times its count in the output
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;   // generation ends after one of these (it is not emitted as text)
  bool ignore_eos = false;            // do not stop at the tokenizer's end-of-text token (benchmarks)
  std::vector<std::string> stop;      // stop strings (matched on the text, serve/detokenizer.h)
  int64_t logprobs = -1;              // -1: none; N >= 0: the chosen token's and the top N alternatives'
  bool prompt_logprobs = false;       // also the log-probabilities of the prompt tokens (echo)

  // Throws tessera::Error naming the first bad field.
  void validate() const;
};

struct TokenLogprob {
  int32_t id = 0;
  double logprob = 0.0;
};

struct SampledToken {
  int32_t id = 0;
  double logprob = 0.0;           // the model's log-probability of id
  std::vector<TokenLogprob> top;  // the `logprobs` most likely tokens, most likely first
};

// The model's log-probabilities of logits (n) over ids [0, n).
std::vector<double> log_softmax(const float* logits, int64_t n);
// The k most likely ids of log-probabilities lp, most likely first (ties: lower id first).
std::vector<TokenLogprob> top_logprobs(const std::vector<double>& lp, int64_t k);

// The per-request sampler: its generator and the counts of tokens seen (for penalties).
class Sampler {
 public:
  // vocab_limit: the tokenizer's vocabulary size; ids at or past it are never sampled.
  Sampler(const SamplingParams& params, int64_t vocab_limit, const std::vector<int32_t>& prompt);

  // The candidates the next draw chooses among, with their probabilities (summing to 1), most
  // likely first (ties: lower id first), after penalties, temperature and the cuts. Greedy: the
  // argmax alone with probability 1. logits (V), V >= 1.
  std::vector<TokenLogprob> candidates(const float* logits, int64_t V) const;
  // Draws the next token from logits (V) and counts it as generated.
  SampledToken sample(const float* logits, int64_t V);

 private:
  // logits (n) of the ids the tokenizer knows, with the penalties applied, into work_.
  void penalise(const float* logits, int64_t n) const;

  SamplingParams params_;
  int64_t vocab_limit_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int64_t> seen_;       // ids of the prompt and the output
  std::unordered_map<int32_t, int64_t> generated_;  // id -> times generated
  mutable std::vector<double> work_;                // (n) scratch kept across tokens: no page faults
};

}  // namespace tessera::serve
