#include "interchange/gguf_tensor_map.h"

#include <fmt/format.h>

#include "core/error.h"

namespace tessera::interchange {

std::vector<GgufTensorMapping> gguf_tensor_map(const ModelConfig& c) {
  const bool gpt2 = c.family == Family::gpt2;
  const int64_t V = c.vocab_size, C = c.d_model, F = c.ff_dim(), D = c.head_dim();
  const int64_t NH = c.n_head, NKV = c.kv_heads(), QKV = (NH + 2 * NKV) * D;
  std::vector<GgufTensorMapping> m;
  auto whole = [&](const std::string& gguf_name, const std::string& param, const core::Shape& shape) {
    m.push_back({gguf_name, param, shape});
  };
  whole("token_embd.weight", "embed.tokens.weight", {V, C});
  if (gpt2) whole("position_embd.weight", "embed.positions.weight", {c.seq_len, C});
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string g = fmt::format("blk.{}.", i), t = fmt::format("blocks.{}.", i);
    whole(g + "attn_norm.weight", t + "attn_norm.weight", {C});
    whole(g + "ffn_norm.weight", t + "mlp_norm.weight", {C});
    whole(g + "attn_output.weight", t + "attn.out.weight", {C, NH * D});
    whole(g + "ffn_up.weight", t + "mlp.up.weight", {F, C});
    whole(g + "ffn_down.weight", t + "mlp.down.weight", {C, F});
    if (gpt2) {
      whole(g + "attn_norm.bias", t + "attn_norm.bias", {C});
      whole(g + "ffn_norm.bias", t + "mlp_norm.bias", {C});
      whole(g + "attn_qkv.weight", t + "attn.qkv.weight", {QKV, C});
      whole(g + "attn_qkv.bias", t + "attn.qkv.bias", {QKV});
      whole(g + "attn_output.bias", t + "attn.out.bias", {C});
      whole(g + "ffn_up.bias", t + "mlp.up.bias", {F});
      whole(g + "ffn_down.bias", t + "mlp.down.bias", {C});
    } else {
      const std::string qkv = t + "attn.qkv.weight";
      m.push_back({g + "attn_q.weight", qkv, {QKV, C}, 0, NH * D, true});
      m.push_back({g + "attn_k.weight", qkv, {QKV, C}, NH * D, NKV * D, true});
      m.push_back({g + "attn_v.weight", qkv, {QKV, C}, (NH + NKV) * D, NKV * D, false});
      whole(g + "ffn_gate.weight", t + "mlp.gate.weight", {F, C});
    }
  }
  whole("output_norm.weight", "final_norm.weight", {C});
  if (gpt2) whole("output_norm.bias", "final_norm.bias", {C});
  // Without output.weight llama.cpp uses token_embd as the output layer: the tied case.
  if (!c.tie_embeddings) whole("output.weight", "lm_head.weight", {V, C});
  return m;
}

std::vector<int64_t> gguf_dims(const GgufTensorMapping& m) {
  core::Shape shape = m.shape;
  if (m.rows > 0) shape[0] = m.rows;
  return std::vector<int64_t>(shape.rbegin(), shape.rend());
}

std::vector<int64_t> gguf_rope_row_order(int64_t D) {
  const int64_t half = D / 2;
  std::vector<int64_t> order(static_cast<size_t>(D));
  for (int64_t i = 0; i < half; ++i) {
    order[2 * i] = i;
    order[2 * i + 1] = half + i;
  }
  return order;
}

}  // namespace tessera::interchange
