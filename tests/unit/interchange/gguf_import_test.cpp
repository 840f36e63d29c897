// GGUF import (interchange/gguf_import.h): what the exporter writes comes back exactly (f32 bit
// for bit, the tokenizer with the same hash, padding dropped), q8_0 within its quantisation bound,
// and damaged or unsupported files are errors naming the file and the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "interchange/gguf_export.h"
#include "interchange/gguf_import.h"
#include "interchange/gguf_writer.h"
#include "tests/unit/interchange/gguf_test_support.h"
#include "tests/unit/test_support.h"

namespace tessera::interchange {
namespace {

using gguf::TensorType;
using testing::param_values;
using testing::small_config;
using testing::small_tokenizer;
using testing_support::error_of;
using testing_support::TempDir;

// A model of `family` with 4 padding ids past the tokenizer, exported as `type` and imported back.
struct RoundTrip {
  datasets::Tokenizer tok = small_tokenizer(280);
  ModelConfig config;
  std::unique_ptr<core::Transformer> original;
  GgufModel imported;

  RoundTrip(const TempDir& dir, const std::string& family, bool tied, TensorType type)
      : config(make_config(family, tied)), original(make_model(config)),
        imported(export_and_import(dir, *original, tok, type)) {}

  ModelConfig make_config(const std::string& family, bool tied) const {
    ModelConfig c = small_config(family, static_cast<int64_t>(tok.vocab_size()) + 4);
    c.tie_embeddings = tied;
    c.d_ff = family == "llama" ? 160 : 0;  // not the family default: read back from the keys
    return c;
  }
  static std::unique_ptr<core::Transformer> make_model(const ModelConfig& c) {
    auto m = std::make_unique<core::Transformer>(c);
    m->init_weights(11);
    return m;
  }
  static GgufModel export_and_import(const TempDir& dir, const core::Transformer& m, const datasets::Tokenizer& tok,
                                     TensorType type) {
    export_gguf(m.config(), m.params(), tok, dir / "m.gguf", {.dtype = type});
    return import_gguf(dir / "m.gguf");
  }
};

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.family, b.family);
  EXPECT_EQ(a.n_layer, b.n_layer);
  EXPECT_EQ(a.d_model, b.d_model);
  EXPECT_EQ(a.n_head, b.n_head);
  EXPECT_EQ(a.n_kv_head, b.n_kv_head);
  EXPECT_EQ(a.d_ff, b.d_ff);
  EXPECT_EQ(a.seq_len, b.seq_len);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.tie_embeddings, b.tie_embeddings);
}

TEST(GgufImport, F32ComesBackBitForBit) {
  for (const auto& [family, tied] : {std::pair{"gpt2", false}, {"gpt2", true}, {"llama", false}, {"llama", true}}) {
    SCOPED_TRACE(std::string(family) + (tied ? " tied" : " untied"));
    TempDir dir;
    const RoundTrip rt(dir, family, tied, TensorType::f32);
    expect_same_config(rt.imported.config, rt.config);
    const core::ParamRegistry& want = rt.original->params();
    const core::ParamRegistry& got = rt.imported.model->params();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got.info(i).name, want.info(i).name);
      EXPECT_EQ(std::memcmp(got.tensor(i).raw(), want.tensor(i).raw(), static_cast<size_t>(want.tensor(i).nbytes())), 0)
          << want.info(i).name;
    }
    // The padding ids are dropped: the tokenizer is the one exported.
    EXPECT_EQ(rt.imported.tokenizer.hash(), rt.tok.hash());
  }
}

TEST(GgufImport, Q8_0WithinTheQuantisationBound) {
  TempDir dir;
  const RoundTrip rt(dir, "llama", false, TensorType::q8_0);
  for (size_t i = 0; i < rt.original->params().size(); ++i) {
    const std::string& name = rt.original->params().info(i).name;
    const std::vector<float> w = param_values(*rt.original, name), back = param_values(*rt.imported.model, name);
    if (rt.original->params().tensor(i).dim() == 1) {
      EXPECT_EQ(back, w) << name << ": 1-D tensors stay f32";
      continue;
    }
    // Rows of 64: every 32 consecutive values of a parameter are one q8_0 block (the RoPE row
    // reordering moves whole rows). |x - q d| <= d/2 plus the fp16 scale's rounding (127 steps
    // of a relative 2^-11), d = max|x| / 127.
    for (size_t b = 0; b < w.size(); b += 32) {
      float amax = 0;
      for (size_t j = b; j < b + 32; ++j) amax = std::max(amax, std::fabs(w[j]));
      const float bound = amax / 127 * (0.5f + 127 * 0x1p-11f) * (1 + 1e-5f);
      for (size_t j = b; j < b + 32; ++j) ASSERT_LE(std::fabs(back[j] - w[j]), bound) << name << " " << j;
    }
  }
}

// The byte offset of the u32 type field of tensor `name` in a GGUF file's bytes.
size_t tensor_type_offset(const std::string& bytes, const std::string& name) {
  std::string key(8, '\0');
  const uint64_t len = name.size();
  std::memcpy(key.data(), &len, 8);
  key += name;
  const size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos) << name;
  uint32_t n_dims;
  std::memcpy(&n_dims, bytes.data() + at + key.size(), 4);
  return at + key.size() + 4 + 8 * n_dims;
}

TEST(GgufImport, DamagedAndUnsupportedFilesAreErrors) {
  TempDir dir;
  const RoundTrip rt(dir, "gpt2", true, TensorType::f32);
  const std::string bytes = testing_support::slurp(dir / "m.gguf");
  for (const size_t cut : {size_t{3}, size_t{30}, size_t{2000}, bytes.size() / 2, bytes.size() - 1}) {
    const std::string path = dir.write("cut.gguf", bytes.substr(0, cut));
    const std::string e = error_of([&] { import_gguf(path); });
    EXPECT_NE(e.find(path), std::string::npos) << "cut at " << cut << ": " << e;
  }
  std::string q4 = bytes;
  const uint32_t q4_0 = 2;
  std::memcpy(q4.data() + tensor_type_offset(q4, "blk.1.ffn_down.weight"), &q4_0, 4);
  EXPECT_NE(error_of([&] { import_gguf(dir.write("q4.gguf", q4)); }).find("'blk.1.ffn_down.weight' has ggml type 2"),
            std::string::npos);

  GgufWriter falcon;
  falcon.add_string("general.architecture", "falcon");
  falcon.write(dir / "falcon.gguf");
  EXPECT_NE(error_of([&] { import_gguf(dir / "falcon.gguf"); })
                .find("general.architecture: unknown model family \"falcon\" (known: gpt2, llama)"),
            std::string::npos);

  GgufWriter eps;
  eps.add_string("general.architecture", "llama");
  for (const char* key : {"context_length", "embedding_length", "block_count", "feed_forward_length",
                          "attention.head_count"}) {
    eps.add_u32(std::string("llama.") + key, 64);
  }
  eps.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
  eps.write(dir / "eps.gguf");
  EXPECT_NE(error_of([&] { import_gguf(dir / "eps.gguf"); }).find("llama.attention.layer_norm_rms_epsilon"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::interchange
