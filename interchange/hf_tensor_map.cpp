#include "interchange/hf_tensor_map.h"

#include <fmt/format.h>

#include "core/error.h"

namespace tessera::interchange {

std::vector<HfTensorMapping> hf_tensor_map(const ModelConfig& c) {
  std::vector<HfTensorMapping> map;
  auto add = [&](std::string hf, std::string param, bool transposed = false) {
    map.push_back({std::move(hf), std::move(param), 0, 0, transposed});
  };
  if (c.family == Family::gpt2) {
    add("transformer.wte.weight", "embed.tokens.weight");
    add("transformer.wpe.weight", "embed.positions.weight");
    for (int64_t i = 0; i < c.n_layer; ++i) {
      const std::string h = fmt::format("transformer.h.{}.", i), b = fmt::format("blocks.{}.", i);
      for (const char* s : {"weight", "bias"}) {
        const bool w = std::string_view(s) == "weight";
        add(h + "ln_1." + s, b + "attn_norm." + s);
        add(h + "attn.c_attn." + s, b + "attn.qkv." + s, w);
        add(h + "attn.c_proj." + s, b + "attn.out." + s, w);
        add(h + "ln_2." + s, b + "mlp_norm." + s);
        add(h + "mlp.c_fc." + s, b + "mlp.up." + s, w);
        add(h + "mlp.c_proj." + s, b + "mlp.down." + s, w);
      }
    }
    add("transformer.ln_f.weight", "final_norm.weight");
    add("transformer.ln_f.bias", "final_norm.bias");
  } else {
    const int64_t D = c.head_dim(), NH = c.n_head, NKV = c.kv_heads();
    add("model.embed_tokens.weight", "embed.tokens.weight");
    for (int64_t i = 0; i < c.n_layer; ++i) {
      const std::string h = fmt::format("model.layers.{}.", i), b = fmt::format("blocks.{}.", i);
      add(h + "input_layernorm.weight", b + "attn_norm.weight");
      map.push_back({h + "self_attn.q_proj.weight", b + "attn.qkv.weight", 0, NH * D, false});
      map.push_back({h + "self_attn.k_proj.weight", b + "attn.qkv.weight", NH * D, NKV * D, false});
      map.push_back({h + "self_attn.v_proj.weight", b + "attn.qkv.weight", (NH + NKV) * D, NKV * D, false});
      add(h + "self_attn.o_proj.weight", b + "attn.out.weight");
      add(h + "post_attention_layernorm.weight", b + "mlp_norm.weight");
      add(h + "mlp.gate_proj.weight", b + "mlp.gate.weight");
      add(h + "mlp.up_proj.weight", b + "mlp.up.weight");
      add(h + "mlp.down_proj.weight", b + "mlp.down.weight");
    }
    add("model.norm.weight", "final_norm.weight");
  }
  if (!c.tie_embeddings) add("lm_head.weight", "lm_head.weight");
  return map;
}

core::Shape hf_shape(const HfTensorMapping& m, const core::Shape& param_shape) {
  core::Shape s = param_shape;
  if (m.rows > 0) s[0] = m.rows;
  if (m.transposed) std::swap(s[0], s[1]);
  return s;
}

}  // namespace tessera::interchange
