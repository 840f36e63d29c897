#pragma once
// Tessera model -> GGUF v3 that llama.cpp loads: architecture `gpt2` (gpt2 family) or `llama`
// (llama family), the hyper-parameter keys each needs, llama.cpp's tensor names and layouts, and
// the byte-level BPE tokenizer (tokenizer.ggml.model "gpt2", pre-tokeniser "gpt-2"). Tensor names
// and layouts: gguf_tensor_map.h and docs/interchange.md.
//
// Layouts: an (out, in) weight is written row-major with GGUF dims [in, out]; 1-D tensors
// (norms, biases) stay f32 whatever the dtype. f16 and bf16 convert every matrix (bf16: round to
// nearest even, the full f32 range; ggml type 30, file type MOSTLY_BF16 = 32); q8_0 quantises every
// matrix whose rows are a multiple of 32 elements and writes the others f16. For llama, the fused
// qkv is split into attn_q, attn_k, attn_v, and the rows of each query and key head are reordered
// from the rotate-half RoPE layout (pairs (i, i + D/2)) to the interleaved one llama.cpp's llama
// graph rotates (pairs (2i, 2i + 1)); q . k is unchanged, so attention is the same.
#include <string>

#include "core/model/model_config.h"
#include "core/model/params.h"
#include "datasets/tokenizer.h"
#include "interchange/gguf_format.h"

namespace tessera::interchange {

struct GgufExportOptions {
  gguf::TensorType dtype = gguf::TensorType::f32;
  std::string name = "tessera";  // general.name
};

// `params`: the model's full (unsharded) parameters, f32 or f64. The tokenizer's vocabulary may be
// smaller than the model's (padded embeddings): the missing ids are written as unused "[PAD<i>]"
// tokens. Throws tessera::Error for a larger tokenizer, a parameter of the wrong shape, or values
// out of the fp16 range with f16/q8_0.
void export_gguf(const ModelConfig& config, const core::ParamRegistry& params,
                 const datasets::Tokenizer& tokenizer, const std::string& path,
                 const GgufExportOptions& options = {});

}  // namespace tessera::interchange
