#pragma once
// Which GGUF tensor holds which Tessera parameter (or which rows of it), in llama.cpp's names for
// the `gpt2` and `llama` architectures. Export and import both walk this list, so the two
// directions cannot disagree.
//
//   both   token_embd.weight            embed.tokens.weight        [C, V]
//          blk.{i}.attn_norm.weight     blocks.{i}.attn_norm.weight
//          blk.{i}.ffn_norm.weight      blocks.{i}.mlp_norm.weight
//          blk.{i}.attn_output.weight   blocks.{i}.attn.out.weight [NH*D, C]
//          blk.{i}.ffn_up.weight        blocks.{i}.mlp.up.weight   [C, F]
//          blk.{i}.ffn_down.weight      blocks.{i}.mlp.down.weight [F, C]
//          output_norm.weight           final_norm.weight
//          output.weight                lm_head.weight (untied only; without it the output is token_embd)
//   gpt2   position_embd.weight         embed.positions.weight     [C, T]
//          blk.{i}.attn_qkv.{weight,bias}  blocks.{i}.attn.qkv (q | k | v rows, as ours)
//          the .bias of every norm, attn_output, ffn_up and ffn_down
//   llama  blk.{i}.attn_{q,k,v}.weight  rows q | k | v of blocks.{i}.attn.qkv.weight; q and k heads
//                                       in llama.cpp's interleaved RoPE order (gguf_rope_row_order)
//          blk.{i}.ffn_gate.weight      blocks.{i}.mlp.gate.weight
// GGUF dims run from the contiguous axis outwards: an (out, in) parameter is [in, out].
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model_config.h"
#include "core/tensor.h"

namespace tessera::interchange {

struct GgufTensorMapping {
  std::string gguf_name;
  std::string param;        // the Tessera parameter ...
  core::Shape shape;        // ... and its shape, as the config implies it
  int64_t row0 = 0;         // the rows [row0, row0 + rows) of the parameter's axis 0 ...
  int64_t rows = 0;         // ... or the whole parameter when 0
  bool rope_heads = false;  // each head of head_dim rows in llama.cpp's interleaved RoPE order
};

// The mappings of a gpt2 or llama model, in the order the exporter writes them.
std::vector<GgufTensorMapping> gguf_tensor_map(const ModelConfig& config);

// The GGUF dims of a mapping (ggml order: dims[0] is the contiguous axis).
std::vector<int64_t> gguf_dims(const GgufTensorMapping& m);

// The GGUF row order of one rotate-half head of D rows: element r is the source row of GGUF row r
// (2i + j <- j * D/2 + i).
std::vector<int64_t> gguf_rope_row_order(int64_t D);

}  // namespace tessera::interchange
