#pragma once
// The model families Tessera computes, in one table: each family's name and the facts that the
// model, the config and the GGUF and Hugging Face mappings branch on.
//   gpt2:  LayerNorm, learned positions, GELU MLP, biases, output tied to the token embedding
//   llama: RMSNorm, RoPE, SwiGLU MLP, grouped-query attention, no biases
// The name is what config files (model.family), checkpoints, GGUF's general.architecture and
// Hugging Face's model_type spell.
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace tessera {

enum class Family { gpt2, llama };

struct FamilyFacts {
  Family family;
  std::string_view name;      // "gpt2"
  std::string_view hf_class;  // Hugging Face config.json "architectures": "GPT2LMHeadModel"
  bool rotary;                // RoPE instead of a learned position table (the head dimension must be even)
  // The width of the MLP's hidden layer when model.d_ff is 0: 4 * d_model, or 8/3 * d_model rounded
  // up to a multiple of 64 (gated).
  bool gated_mlp;
};

inline constexpr FamilyFacts kFamilies[] = {
    {Family::gpt2, "gpt2", "GPT2LMHeadModel", false, false},
    {Family::llama, "llama", "LlamaForCausalLM", true, true},
};

const FamilyFacts& facts(Family family);
inline std::string_view family_name(Family family) { return facts(family).name; }
// The family of a name; throws tessera::Error naming `where` (a file and key) and the known names.
Family family_from_name(std::string_view name, std::string_view where);
// The family whose Hugging Face class is `hf_class`; throws naming `where` and the known classes.
Family family_from_hf_class(std::string_view hf_class, std::string_view where);
// "gpt2, llama": the known names, for messages.
std::string family_names();
// The MLP width a family uses when model.d_ff is 0.
int64_t default_ff_dim(Family family, int64_t d_model);

}  // namespace tessera

// Formats as the family's name, so that messages and logs read "llama".
template <>
struct fmt::formatter<tessera::Family> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(tessera::Family family, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(tessera::family_name(family), ctx);
  }
};
