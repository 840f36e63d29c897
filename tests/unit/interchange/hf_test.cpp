// Hugging Face interchange: export -> import is bit-identical for both families, the files are in
// the Hugging Face layouts (GPT-2 Conv1D transposes, split q/k/v), config.json maps both ways, and
// what Tessera cannot compute exactly is refused with an error naming the key or tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "datasets/tokenizer_train.h"
#include "interchange/hf_config.h"
#include "interchange/hf_export.h"
#include "interchange/hf_import.h"
#include "interchange/hf_tensor_map.h"
#include "interchange/safetensors.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/test_support.h"

namespace tessera::interchange {
namespace {

using J = nlohmann::json;
using testing_support::error_of;
using testing_support::TempDir;

datasets::Tokenizer small_tokenizer() {
  datasets::WordCounts counts;
  counts.add_text("export the model, import the model, and compare every tensor bit for bit.");
  return datasets::train_bpe(counts, 280);
}

ModelConfig config_of(const std::string& family, bool tied, int64_t vocab) {
  return testing_support::tiny_model(family, {.seq_len = 12, .vocab_size = vocab, .tie_embeddings = tied});
}

bool same_bits(const core::Tensor& a, const core::Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.nbytes())) == 0;
}

J read_json(const std::string& path) {
  std::ifstream in(path);
  return J::parse(in);
}

void write_json(const std::string& path, const J& j) { std::ofstream(path) << j.dump(2); }

// A tiny model (vocabulary 300) with weights from `seed`, exported without a tokenizer into a
// temporary directory.
struct Exported {
  Exported(const std::string& family, bool tied, uint64_t seed) : c(config_of(family, tied, 300)), m(c) {
    m.init_weights(seed);
    export_hf(c, m.params(), nullptr, dir.path);
  }
  TempDir dir;
  ModelConfig c;
  core::Transformer m;
};

struct RoundTrip : ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(RoundTrip, ExportThenImportIsBitIdentical) {
  const auto& [family, tied] = GetParam();
  TempDir dir;
  const datasets::Tokenizer tok = small_tokenizer();
  const ModelConfig c = config_of(family, tied, static_cast<int64_t>(tok.vocab_size()) + 3);
  core::Transformer m(c);
  m.init_weights(21);
  export_hf(c, m.params(), &tok, dir.path / "hf");
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path / "hf" / f)) << f;
  }
  const HfModel back = import_hf(dir.path / "hf");
  EXPECT_EQ(back.config.family, c.family);
  EXPECT_EQ(back.config.n_layer, c.n_layer);
  EXPECT_EQ(back.config.d_model, c.d_model);
  EXPECT_EQ(back.config.n_head, c.n_head);
  EXPECT_EQ(back.config.n_kv_head, c.n_kv_head);
  EXPECT_EQ(back.config.d_ff, c.d_ff);
  EXPECT_EQ(back.config.seq_len, c.seq_len);
  EXPECT_EQ(back.config.vocab_size, c.vocab_size);
  EXPECT_EQ(back.config.tie_embeddings, c.tie_embeddings);
  const core::ParamRegistry& a = m.params();
  const core::ParamRegistry& b = back.model->params();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.info(i).name, b.info(i).name);
    EXPECT_TRUE(same_bits(a.tensor(i), b.tensor(i))) << a.info(i).name;
  }
  ASSERT_TRUE(back.tokenizer.has_value());
  EXPECT_EQ(back.tokenizer->hash(), tok.hash());
}

INSTANTIATE_TEST_SUITE_P(Families, RoundTrip,
                         ::testing::Combine(::testing::Values("gpt2", "llama"), ::testing::Bool()),
                         [](const auto& p) {
                           return std::get<0>(p.param) + (std::get<1>(p.param) ? "_tied" : "_untied");
                         });

TEST(HfExport, Gpt2LayoutAndConfig) {
  Exported x("gpt2", true, 3);
  auto& [dir, c, m] = x;
  const SafetensorsReader r(dir / "model.safetensors");
  EXPECT_FALSE(r.contains("lm_head.weight"));  // tied: GPT2LMHeadModel ties it to wte
  EXPECT_EQ(r.metadata().at("format"), "pt");
  // Conv1D stores (in, out): c_attn.weight[i][o] = qkv.weight[o][i].
  EXPECT_EQ(r.entry("transformer.h.1.attn.c_attn.weight").shape, (core::Shape{32, 96}));
  EXPECT_EQ(r.entry("transformer.h.0.mlp.c_proj.weight").shape, (core::Shape{128, 32}));
  const core::Tensor w = r.read_f32("transformer.h.1.attn.c_attn.weight");
  const core::Tensor& qkv = m.params()["blocks.1.attn.qkv.weight"];
  for (int64_t o = 0; o < 96; o += 7) {
    for (int64_t i = 0; i < 32; i += 5) ASSERT_EQ(w.item({i, o}), qkv.item({o, i}));
  }
  EXPECT_TRUE(same_bits(r.read_f32("transformer.wpe.weight"), m.params()["embed.positions.weight"]));
  const J cfg = read_json(dir / "config.json");
  EXPECT_EQ(cfg["architectures"], J({"GPT2LMHeadModel"}));
  EXPECT_EQ(cfg["n_embd"], 32);
  EXPECT_EQ(cfg["n_positions"], 12);
  EXPECT_EQ(cfg["n_inner"], 128);
  EXPECT_EQ(cfg["activation_function"], "gelu_new");
  EXPECT_EQ(cfg["layer_norm_epsilon"], 1e-5);
  EXPECT_EQ(cfg["tie_word_embeddings"], true);
  EXPECT_TRUE(cfg["eos_token_id"].is_null());
}

TEST(HfExport, LlamaLayoutAndConfig) {
  Exported x("llama", false, 4);
  auto& [dir, c, m] = x;
  const SafetensorsReader r(dir / "model.safetensors");
  // Rotate-half RoPE on both sides: q/k/v are plain row blocks of the fused qkv.
  const core::Tensor& qkv = m.params()["blocks.0.attn.qkv.weight"];
  EXPECT_TRUE(same_bits(r.read_f32("model.layers.0.self_attn.q_proj.weight"), qkv.slice(0, 0, 32).clone()));
  EXPECT_TRUE(same_bits(r.read_f32("model.layers.0.self_attn.k_proj.weight"), qkv.slice(0, 32, 16).clone()));
  EXPECT_TRUE(same_bits(r.read_f32("model.layers.0.self_attn.v_proj.weight"), qkv.slice(0, 48, 16).clone()));
  EXPECT_TRUE(same_bits(r.read_f32("lm_head.weight"), m.params()["lm_head.weight"]));
  EXPECT_EQ(r.entries().size(), hf_tensor_map(c).size());
  const J cfg = read_json(dir / "config.json");
  EXPECT_EQ(cfg["architectures"], J({"LlamaForCausalLM"}));
  EXPECT_EQ(cfg["num_key_value_heads"], 2);
  EXPECT_EQ(cfg["intermediate_size"], c.ff_dim());
  EXPECT_EQ(cfg["rms_norm_eps"], 1e-5);
  EXPECT_EQ(cfg["rope_theta"], 10000.0);
  EXPECT_EQ(cfg["tie_word_embeddings"], false);
}

TEST(HfExport, RefusesGroupedQueryGpt2) {
  TempDir dir;
  ModelConfig c = config_of("gpt2", true, 300);
  c.n_kv_head = 2;
  core::Transformer m(c);
  EXPECT_NE(error_of([&] { export_hf(c, m.params(), nullptr, dir.path); }).find("no grouped-query attention"),
            std::string::npos);
}

TEST(HfImport, ConvertsHalfAndBfloatWeights) {
  Exported x("llama", true, 8);
  auto& [dir, c, m] = x;
  // Rewrite the weights as F16 (MLP weights) and BF16 (the others).
  const SafetensorsReader r(dir / "model.safetensors");
  std::vector<std::pair<std::string, core::Tensor>> tensors;
  for (const auto& e : r.entries()) {
    const bool mlp = e.name.find(".mlp.") != std::string::npos;
    tensors.emplace_back(e.name, r.read_f32(e.name).to(mlp ? core::DType::f16 : core::DType::bf16));
  }
  write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  const HfModel back = import_hf(dir.path);
  // Each weight is its original value rounded to the 16-bit type, widened exactly.
  for (const auto& [param, type] : {std::pair{"embed.tokens.weight", core::DType::bf16},
                                    std::pair{"blocks.1.mlp.up.weight", core::DType::f16}}) {
    const core::Tensor want = m.params()[param].to(type).to(core::DType::f32);
    EXPECT_TRUE(same_bits(back.model->params()[param], want)) << param;
  }
}

TEST(HfImport, AcceptsGpt2ModelNamesAndOldBuffers) {
  Exported x("gpt2", true, 9);
  auto& [dir, c, m] = x;
  const SafetensorsReader r(dir / "model.safetensors");
  std::vector<std::pair<std::string, core::Tensor>> tensors;
  for (const auto& e : r.entries()) tensors.emplace_back(e.name.substr(std::string("transformer.").size()), r.read_f32(e.name));
  tensors.emplace_back("h.0.attn.bias", core::Tensor::zeros({1, 1, 12, 12}));
  tensors.emplace_back("lm_head.weight", m.params()["embed.tokens.weight"].clone());  // the tied head, saved too
  write_safetensors(dir / "model.safetensors", tensors);
  const HfModel back = import_hf(dir.path);
  EXPECT_TRUE(same_bits(back.model->params()["blocks.1.mlp.up.weight"], m.params()["blocks.1.mlp.up.weight"]));
}

TEST(HfImport, RefusesWhatItCannotComputeExactly) {
  Exported x("llama", true, 10);
  auto& [dir, c, m] = x;
  const J good = read_json(dir / "config.json");
  auto with = [&](const std::string& key, const J& value) {
    J j = good;
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    write_json(dir / "config.json", j);
    return error_of([&] { import_hf(dir.path); });
  };
  EXPECT_NE(with("architectures", J({"MistralForCausalLM"})).find("\"MistralForCausalLM\" is not supported"),
            std::string::npos);
  EXPECT_NE(with("hidden_act", "gelu").find("\"hidden_act\" = \"gelu\" is not supported"), std::string::npos);
  EXPECT_NE(with("rms_norm_eps", 1e-6).find("\"rms_norm_eps\""), std::string::npos);
  EXPECT_NE(with("rms_norm_eps", J(J::value_t::discarded)).find("\"rms_norm_eps\" = 1e-06"), std::string::npos);
  EXPECT_NE(with("rope_theta", 500000.0).find("\"rope_theta\""), std::string::npos);
  EXPECT_NE(with("rope_scaling", J({{"type", "linear"}, {"factor", 2.0}})).find("\"rope_scaling\""), std::string::npos);
  EXPECT_NE(with("attention_bias", true).find("\"attention_bias\" = true is not supported"), std::string::npos);
  EXPECT_NE(with("head_dim", 4).find("head_dim 4"), std::string::npos);
  EXPECT_NE(with("hidden_size", "32").find("\"hidden_size\" must be a positive integer"), std::string::npos);
  EXPECT_NE(with("num_key_value_heads", 3).find("not a multiple of 3"), std::string::npos);
  const std::string msg = with("num_hidden_layers", 3);  // the file has 2 layers
  EXPECT_NE(msg.find("tensor 'model.layers.2.input_layernorm.weight' is missing"), std::string::npos) << msg;
  EXPECT_NE(with("intermediate_size", 64).find("has shape"), std::string::npos);
  write_json(dir / "config.json", good);
  EXPECT_NO_THROW(import_hf(dir.path));

  // An extra tensor, and an lm_head that is not the tied embedding.
  const SafetensorsReader r(dir / "model.safetensors");
  std::vector<std::pair<std::string, core::Tensor>> tensors;
  for (const auto& e : r.entries()) tensors.emplace_back(e.name, r.read_f32(e.name));
  tensors.emplace_back("model.layers.0.self_attn.q_norm.weight", core::Tensor::zeros({8}));
  write_safetensors(dir / "model.safetensors", tensors);
  EXPECT_NE(error_of([&] { import_hf(dir.path); }).find("'model.layers.0.self_attn.q_norm.weight'"), std::string::npos);
  tensors.pop_back();
  tensors.emplace_back("lm_head.weight", core::Tensor::zeros({300, 32}));
  write_safetensors(dir / "model.safetensors", tensors);
  EXPECT_NE(error_of([&] { import_hf(dir.path); }).find("lm_head.weight differs"), std::string::npos);

  std::filesystem::remove(dir.path / "model.safetensors");
  EXPECT_NE(error_of([&] { import_hf(dir.path); }).find("no model.safetensors"), std::string::npos);
}

TEST(HfConfig, Gpt2Defaults) {
  // A minimal GPT-2 config.json: Hugging Face's defaults fill the rest.
  const J j = {{"model_type", "gpt2"}, {"vocab_size", 50257}, {"n_positions", 1024}, {"n_embd", 768},
               {"n_layer", 12}, {"n_head", 12}, {"n_inner", nullptr}};
  const ModelConfig c = model_config_from_hf(j, "config.json");
  EXPECT_EQ(c.family, Family::gpt2);
  EXPECT_EQ(c.ff_dim(), 3072);
  EXPECT_EQ(c.d_ff, 0);
  EXPECT_EQ(c.n_kv_head, 0);
  EXPECT_TRUE(c.tie_embeddings);
  J bad = j;
  bad["activation_function"] = "relu";
  EXPECT_NE(error_of([&] { model_config_from_hf(bad, "cfg.json"); }).find("cfg.json: \"activation_function\""),
            std::string::npos);
  bad = j;
  bad["scale_attn_by_inverse_layer_idx"] = true;
  EXPECT_NE(error_of([&] { model_config_from_hf(bad, "cfg.json"); }).find("scale_attn_by_inverse_layer_idx"),
            std::string::npos);
  bad = j;
  bad.erase("model_type");
  EXPECT_NE(error_of([&] { model_config_from_hf(bad, "cfg.json"); }).find("cfg.json: model_type: unknown model family \"\" (known: gpt2, llama)"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::interchange
