#pragma once
// The inference forward of the serving engine: one step over a packed batch of tokens from many
// sequences (no padding), each token with its sequence and position. It runs on the model's own
// parameters (a core::Transformer's registry, the names and layout training uses: trained weights
// are served with no copy) with the core/cpu kernels, for the gpt2 and llama families.
//
// Per layer the keys and values of the batch's tokens are written to the paged KV cache first;
// then each token attends causally over its sequence's cached tokens [0, position] through the
// sequence's block table. A prompt may therefore arrive in chunks over several steps (chunked
// prefill) and a decode step is one row per sequence.
//
// Weights: the projections (qkv, out, up/gate, down, the output head) run in the precision
// chosen at construction (serve/projection.h: f32 on the parameters themselves, or a bf16 or int8
// copy made once); embeddings, norms and biases stay f32.
//
// Batch invariance (on by default): every product is a fixed-order dot product (linear_forward's
// batch_invariant path, the bf16 and int8 kernels, attention_rows_paged), norms and activations are per
// row, and attention reads only the token's own context. A token's logits are bitwise the same
// whatever else is in the batch and however its prompt was chunked, in every precision. Off, the
// f32 projections run on BLAS (faster for several rows; a row's last bits then depend on the
// batch); attention stays per token.
//
// Tensor parallelism: as training (transformer.h): this rank's heads and MLP features, an
// all-reduce after the token embedding and after each row-parallel projection, the vocabulary
// shards of the logits gathered. Every rank of the model's group calls forward with the same
// batch, in the same order.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/arena.h"
#include "core/model/transformer.h"
#include "serve/kv_cache.h"
#include "serve/projection.h"

namespace tessera::serve {

// One step's tokens. Rows of one sequence are contiguous and in increasing position order; its
// block table covers every position it writes, and rows of one sequence continue its cached
// tokens (the first row's position is table->n_cached, or earlier when recomputing).
struct StepBatch {
  std::vector<int32_t> tokens;             // (N) token ids
  std::vector<int32_t> positions;          // (N) positions in their sequences
  std::vector<int32_t> seq;                // (N) index into tables
  std::vector<const BlockTable*> tables;   // (S) the block table of each sequence
  std::vector<int32_t> logit_rows;         // (R) rows whose logits forward returns

  int64_t rows() const { return static_cast<int64_t>(tokens.size()); }
  void clear();
  // Appends a sequence's tokens at positions start, start+1, ...; with want_logits, the logits of
  // the last of them (all_logits: of every one of them) are returned.
  void add(const BlockTable& table, const std::vector<int32_t>& ids, int64_t start, bool want_logits,
           bool all_logits = false);
};

// The KV cache shape a model needs on this rank.
KvCacheShape kv_cache_shape(const core::Transformer& model, int64_t block_size = 16,
                            core::DType dtype = core::DType::f32);
// The cache's element type when none is asked for: f32 beside f32 weights (the engine then
// reproduces the training forward bit for bit), bf16 beside bf16 and int8 weights.
core::DType default_kv_dtype(WeightPrecision weights);

class InferenceForward {
 public:
  // model: f32, outlives this; cache: shaped by kv_cache_shape(model). weights: the projections'
  // precision (bf16 and int8 convert this rank's shards once, here).
  InferenceForward(core::Transformer& model, KvCache& cache, bool batch_invariant = true,
                   WeightPrecision weights = WeightPrecision::f32);
  ~InferenceForward();
  InferenceForward(const InferenceForward&) = delete;
  InferenceForward& operator=(const InferenceForward&) = delete;

  // Runs the batch, writing its keys and values to the cache -> (R, V) logits of batch.logit_rows,
  // valid until the next call. Throws tessera::Error for bad ids, positions or block tables.
  const core::Tensor& forward(const StepBatch& batch);

  const core::Transformer& model() const { return model_; }
  WeightPrecision weights() const { return precision_; }
  // The bytes of weights one decode step reads on this rank: the projections in their precision,
  // the other parameters in f32 (the embedding tables only through the output head, when tied).
  int64_t weight_bytes() const;

 private:
  struct Weights;
  void check(const StepBatch& batch) const;
  void write_kv(int64_t layer, const float* qkv, const StepBatch& batch);
  void attend(int64_t layer, float* out, const float* qkv, const StepBatch& batch);
  template <typename E>
  void write_kv_as(int64_t layer, const float* qkv, const StepBatch& batch);
  template <typename E>
  void attend_as(int64_t layer, float* out, const float* qkv, const StepBatch& batch);

  core::Transformer& model_;
  KvCache& cache_;
  bool inv_;  // batch-invariant projections
  WeightPrecision precision_;
  std::unique_ptr<Weights> w_;
  core::Arena arena_;
  template <typename E>
  struct Pages {
    std::vector<const E*> keys, values;  // a context's pages for one kv head
  };
  struct Scratch {
    Pages<float> f32;
    Pages<core::bf16> bf16;
    std::vector<float> floats;  // attention_rows_paged's scratch
    template <typename E>
    Pages<E>& pages() {
      if constexpr (std::is_same_v<E, float>) return f32; else return bf16;
    }
  };
  std::vector<Scratch> scratch_;  // per thread
  core::Tensor logits_;
};

}  // namespace tessera::serve
