#include "interchange/hf_config.h"

#include <cmath>

#include "core/error.h"

namespace tessera::interchange {
namespace {

using J = nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const J& j, const std::string& source) : j_(j), source_(source) {}

  int64_t positive(const char* key) const {
    const auto it = j_.find(key);
    TESSERA_CHECK(it != j_.end() && it->is_number_integer() && it->get<int64_t>() > 0,
                  "{}: \"{}\" must be a positive integer{}", source_, key,
                  it == j_.end() ? " (missing)" : ", got " + it->dump());
    return it->get<int64_t>();
  }
  // A positive integer, or `fallback` when the key is missing or null.
  int64_t positive_or(const char* key, int64_t fallback) const {
    const auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? fallback : positive(key);
  }
  bool boolean_or(const char* key, bool fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    TESSERA_CHECK(it->is_boolean(), "{}: \"{}\" must be true or false, got {}", source_, key, it->dump());
    return it->get<bool>();
  }
  // The value (or `fallback` when missing) must be `required`: Tessera computes only that.
  void require_bool(const char* key, bool fallback, bool required) const {
    TESSERA_CHECK(boolean_or(key, fallback) == required, "{}: \"{}\" = {} is not supported (Tessera's model needs "
                  "{})", source_, key, !required, required);
  }
  void require_number(const char* key, double fallback, double required) const {
    const auto it = j_.find(key);
    double v = fallback;
    if (it != j_.end() && !it->is_null()) {
      TESSERA_CHECK(it->is_number(), "{}: \"{}\" must be a number, got {}", source_, key, it->dump());
      v = it->get<double>();
    }
    TESSERA_CHECK(std::fabs(v - required) <= 1e-9 * std::fabs(required), "{}: \"{}\" = {} is not supported "
                  "(Tessera's model uses {})", source_, key, v, required);
  }
  void require_string(const char* key, const char* fallback, std::initializer_list<const char*> allowed) const {
    const auto it = j_.find(key);
    std::string v = fallback;
    if (it != j_.end() && !it->is_null()) {
      TESSERA_CHECK(it->is_string(), "{}: \"{}\" must be a string, got {}", source_, key, it->dump());
      v = it->get<std::string>();
    }
    for (const char* a : allowed) {
      if (v == a) return;
    }
    TESSERA_FAIL("{}: \"{}\" = \"{}\" is not supported (Tessera's model computes \"{}\")", source_, key, v,
                 *allowed.begin());
  }
  void require_null(const char* key) const {
    const auto it = j_.find(key);
    TESSERA_CHECK(it == j_.end() || it->is_null(), "{}: \"{}\" = {} is not supported", source_, key, it->dump());
  }

 private:
  const J& j_;
  const std::string& source_;
};

// "GPT2LMHeadModel" -> gpt2, "LlamaForCausalLM" -> llama, from architectures[0] or model_type.
Family family_of(const J& j, const std::string& source) {
  const auto arch = j.find("architectures");
  if (arch != j.end() && !arch->is_null()) {
    TESSERA_CHECK(arch->is_array() && arch->size() == 1 && (*arch)[0].is_string(), "{}: \"architectures\" must "
                  "hold one class name, got {}", source, arch->dump());
    const auto name = (*arch)[0].get<std::string>();
    return family_from_hf_class(name, source);
  }
  return family_from_name(j.value("model_type", ""), source + ": model_type");
}

}  // namespace

J hf_config_json(const ModelConfig& c, std::optional<uint32_t> eos_id) {
  J j;
  const J eos = eos_id ? J(*eos_id) : J(nullptr);
  const std::string hf_class(facts(c.family).hf_class), model_type(family_name(c.family));
  if (c.family == Family::gpt2) {
    TESSERA_CHECK(c.kv_heads() == c.n_head, "Hugging Face GPT-2 has no grouped-query attention (n_kv_head = {}, "
                  "n_head = {})", c.kv_heads(), c.n_head);
    j = {{"architectures", {hf_class}},
         {"model_type", model_type},
         {"vocab_size", c.vocab_size},
         {"n_positions", c.seq_len},
         {"n_embd", c.d_model},
         {"n_layer", c.n_layer},
         {"n_head", c.n_head},
         {"n_inner", c.ff_dim()},
         {"activation_function", "gelu_new"},
         {"layer_norm_epsilon", kModelNormEps},
         {"scale_attn_weights", true},
         {"scale_attn_by_inverse_layer_idx", false},
         {"reorder_and_upcast_attn", false},
         {"resid_pdrop", 0.0},
         {"embd_pdrop", 0.0},
         {"attn_pdrop", 0.0},
         {"initializer_range", 0.02},
         {"use_cache", true}};
  } else {
    j = {{"architectures", {hf_class}},
         {"model_type", model_type},
         {"vocab_size", c.vocab_size},
         {"max_position_embeddings", c.seq_len},
         {"hidden_size", c.d_model},
         {"intermediate_size", c.ff_dim()},
         {"num_hidden_layers", c.n_layer},
         {"num_attention_heads", c.n_head},
         {"num_key_value_heads", c.kv_heads()},
         {"head_dim", c.head_dim()},
         {"hidden_act", "silu"},
         {"rms_norm_eps", kModelNormEps},
         {"rope_theta", kModelRopeTheta},
         {"rope_scaling", nullptr},
         {"attention_bias", false},
         {"mlp_bias", false},
         {"attention_dropout", 0.0},
         {"pretraining_tp", 1},
         {"initializer_range", 0.02},
         {"use_cache", true}};
  }
  j["tie_word_embeddings"] = c.tie_embeddings;
  j["bos_token_id"] = eos;
  j["eos_token_id"] = eos;
  j["torch_dtype"] = "float32";
  return j;
}

ModelConfig model_config_from_hf(const J& j, const std::string& source) {
  TESSERA_CHECK(j.is_object(), "{}: config.json must be a JSON object", source);
  const ConfigReader r(j, source);
  ModelConfig c;
  c.family = family_of(j, source);
  int64_t ff = 0, kv = 0;
  if (c.family == Family::gpt2) {
    c.vocab_size = r.positive("vocab_size");
    c.seq_len = r.positive("n_positions");
    c.d_model = r.positive("n_embd");
    c.n_layer = r.positive("n_layer");
    c.n_head = r.positive("n_head");
    ff = r.positive_or("n_inner", 4 * c.d_model);
    kv = c.n_head;
    // gelu_new and gelu_pytorch_tanh are both the tanh form Tessera computes.
    r.require_string("activation_function", "gelu_new", {"gelu_new", "gelu_pytorch_tanh"});
    r.require_number("layer_norm_epsilon", 1e-5, kModelNormEps);
    r.require_bool("scale_attn_weights", true, true);
    r.require_bool("scale_attn_by_inverse_layer_idx", false, false);
    r.require_bool("add_cross_attention", false, false);
    c.tie_embeddings = r.boolean_or("tie_word_embeddings", true);
  } else {
    c.vocab_size = r.positive("vocab_size");
    c.seq_len = r.positive("max_position_embeddings");
    c.d_model = r.positive("hidden_size");
    c.n_layer = r.positive("num_hidden_layers");
    c.n_head = r.positive("num_attention_heads");
    ff = r.positive("intermediate_size");
    kv = r.positive_or("num_key_value_heads", c.n_head);
    TESSERA_CHECK(c.d_model % c.n_head == 0, "{}: hidden_size {} is not a multiple of num_attention_heads {}",
                  source, c.d_model, c.n_head);
    const int64_t head_dim = r.positive_or("head_dim", c.d_model / c.n_head);
    TESSERA_CHECK(head_dim == c.d_model / c.n_head, "{}: head_dim {} is not hidden_size / num_attention_heads "
                  "({}), which Tessera does not support", source, head_dim, c.d_model / c.n_head);
    r.require_string("hidden_act", "silu", {"silu"});
    r.require_number("rms_norm_eps", 1e-6, kModelNormEps);  // 1e-6: Hugging Face's default
    r.require_number("rope_theta", 10000.0, kModelRopeTheta);
    r.require_null("rope_scaling");
    r.require_bool("attention_bias", false, false);
    r.require_bool("mlp_bias", false, false);
    c.tie_embeddings = r.boolean_or("tie_word_embeddings", false);
  }
  TESSERA_CHECK(c.n_head % kv == 0, "{}: {} attention heads are not a multiple of {} key/value heads", source,
                c.n_head, kv);
  c.n_kv_head = kv == c.n_head ? 0 : kv;
  c.d_ff = ff == c.ff_dim() ? 0 : ff;
  return c;
}

}  // namespace tessera::interchange
