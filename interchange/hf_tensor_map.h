#pragma once
// Which Hugging Face tensor holds which part of which Tessera parameter, for GPT2LMHeadModel and
// LlamaForCausalLM. Export and import both walk this list, so the two directions cannot disagree.
//
//   gpt2  (GPT-2's Conv1D stores weights (in, out): the transpose of Tessera's (out, in))
//     transformer.wte.weight                  embed.tokens.weight
//     transformer.wpe.weight                  embed.positions.weight
//     transformer.h.{i}.ln_1.{weight,bias}    blocks.{i}.attn_norm.{weight,bias}
//     transformer.h.{i}.attn.c_attn.{weight,bias}  blocks.{i}.attn.qkv  (transposed; q|k|v as ours)
//     transformer.h.{i}.attn.c_proj.{weight,bias}  blocks.{i}.attn.out  (transposed)
//     transformer.h.{i}.ln_2.{weight,bias}    blocks.{i}.mlp_norm.{weight,bias}
//     transformer.h.{i}.mlp.c_fc.{weight,bias}     blocks.{i}.mlp.up    (transposed)
//     transformer.h.{i}.mlp.c_proj.{weight,bias}   blocks.{i}.mlp.down  (transposed)
//     transformer.ln_f.{weight,bias}          final_norm.{weight,bias}
//     lm_head.weight                          lm_head.weight (untied only)
//   llama (nn.Linear weights are (out, in) like ours; rotate-half RoPE like ours: no reordering)
//     model.embed_tokens.weight               embed.tokens.weight
//     model.layers.{i}.input_layernorm.weight blocks.{i}.attn_norm.weight
//     model.layers.{i}.self_attn.{q,k,v}_proj.weight  rows q | k | v of blocks.{i}.attn.qkv.weight
//     model.layers.{i}.self_attn.o_proj.weight         blocks.{i}.attn.out.weight
//     model.layers.{i}.post_attention_layernorm.weight blocks.{i}.mlp_norm.weight
//     model.layers.{i}.mlp.{gate,up,down}_proj.weight  blocks.{i}.mlp.{gate,up,down}.weight
//     model.norm.weight                       final_norm.weight
//     lm_head.weight                          lm_head.weight (untied only)
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model_config.h"
#include "core/tensor.h"

namespace tessera::interchange {

struct HfTensorMapping {
  std::string hf_name;
  std::string param;        // the Tessera parameter
  int64_t row0 = 0;         // the rows [row0, row0 + rows) of the parameter's axis 0 ...
  int64_t rows = 0;         // ... or the whole parameter when 0
  bool transposed = false;  // Hugging Face stores the (in, out) transpose of this 2-D block
};

std::vector<HfTensorMapping> hf_tensor_map(const ModelConfig& config);

// The Hugging Face shape of a mapping whose Tessera parameter has `param_shape`.
core::Shape hf_shape(const HfTensorMapping& m, const core::Shape& param_shape);

}  // namespace tessera::interchange
