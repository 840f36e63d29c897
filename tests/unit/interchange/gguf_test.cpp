// GGUF: the writer's structure read back (header, key/values, tensor infos, alignment, data),
// the reader's checks on damaged files, f16 and q8_0 encoding, and the exporter's names, layouts,
// hyper-parameters and tokenizer for both model families.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "core/dtype.h"
#include "core/model/transformer.h"
#include "datasets/byte_unicode.h"
#include "interchange/gguf_export.h"
#include "interchange/gguf_quant.h"
#include "interchange/gguf_reader.h"
#include "interchange/gguf_tensor_map.h"
#include "interchange/gguf_writer.h"
#include "tests/unit/interchange/gguf_test_support.h"
#include "tests/unit/test_support.h"

namespace tessera::interchange {
namespace {

using gguf::TensorType;
using testing::param_values;
using testing::random_values;
using testing::small_config;
using testing::small_tokenizer;
using testing_support::error_of;
using testing_support::TempDir;

TEST(GgufWriter, StructureReadsBack) {
  TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "gpt2");
  w.add_u32("gpt2.block_count", 7);
  w.add_i32("test.negative", -5);
  w.add_f32("gpt2.attention.layer_norm_epsilon", 1e-5f);
  w.add_bool("test.flag", true);
  w.add_strings("tokenizer.ggml.tokens", {"a", "", "\xc4\xa0the"});
  w.add_i32s("tokenizer.ggml.token_type", {1, 3, -2});
  const std::vector<float> a = random_values(6 * 4, 1.0f, 1), b = random_values(64, 1.0f, 2);
  w.add_tensor("a.weight", {4, 6}, TensorType::f32, gguf_encode(a, TensorType::f32));  // a (6, 4) matrix
  w.add_tensor("b.weight", {32, 2}, TensorType::q8_0, gguf_encode(b, TensorType::q8_0));
  w.add_tensor("c.bias", {3}, TensorType::f16, gguf_encode(std::vector<float>{1, 2, 3}, TensorType::f16));
  w.write(dir / "m.gguf");

  // The fixed header, byte for byte.
  const std::string bytes = testing_support::slurp(dir / "m.gguf");
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 4), "GGUF");
  uint32_t version;
  uint64_t n_tensors, n_kv;
  std::memcpy(&version, bytes.data() + 4, 4);
  std::memcpy(&n_tensors, bytes.data() + 8, 8);
  std::memcpy(&n_kv, bytes.data() + 16, 8);
  EXPECT_EQ(version, 3u);
  EXPECT_EQ(n_tensors, 3u);
  EXPECT_EQ(n_kv, 7u);

  const GgufFile f = GgufFile::read(dir / "m.gguf");
  EXPECT_EQ(f.kv().size(), 7u);
  EXPECT_EQ(f.at("general.architecture").as_string(), "gpt2");
  EXPECT_EQ(f.at("gpt2.block_count").type, gguf::ValueType::u32);
  EXPECT_EQ(f.at("gpt2.block_count").as_uint(), 7u);
  EXPECT_EQ(f.at("test.negative").as_int(), -5);
  EXPECT_FLOAT_EQ(static_cast<float>(f.at("gpt2.attention.layer_norm_epsilon").as_float()), 1e-5f);
  EXPECT_TRUE(f.at("test.flag").as_bool());
  const auto& tokens = f.at("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens.element_type, gguf::ValueType::string);
  ASSERT_EQ(tokens.as_array().size(), 3u);
  EXPECT_EQ(tokens.as_array()[1].as_string(), "");
  EXPECT_EQ(tokens.as_array()[2].as_string(), "\xc4\xa0the");
  const auto& types = f.at("tokenizer.ggml.token_type");
  EXPECT_EQ(types.element_type, gguf::ValueType::i32);
  EXPECT_EQ(types.as_array()[2].as_int(), -2);

  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "a.weight");
  EXPECT_EQ(f.tensors()[0].dims, (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(f.tensors()[1].type, TensorType::q8_0);
  EXPECT_EQ(f.tensors()[2].dims, (std::vector<int64_t>{3}));
  for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % gguf::kAlignment, 0u) << t.name;
  EXPECT_EQ(f.read_f32("a.weight"), a);
  EXPECT_EQ(f.read_f32("c.bias"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(f.read_f32("b.weight"), gguf_decode(gguf_encode(b, TensorType::q8_0), TensorType::q8_0, 64));
  // The data section starts aligned, right after the tensor infos.
  EXPECT_EQ(bytes.size() % gguf::kAlignment, (3 * 2) % gguf::kAlignment);  // c.bias is the last: 3 f16
}

TEST(GgufWriter, RejectsInconsistentInput) {
  GgufWriter w;
  w.add_u32("k", 1);
  EXPECT_NE(error_of([&] { w.add_u32("k", 2); }).find("added twice"), std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("t", {4}, TensorType::f32, std::vector<uint8_t>(12)); }).find("expected 16"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor(std::string(64, 'x'), {1}, TensorType::f32, std::vector<uint8_t>(4)); })
                .find("1 to 63 bytes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("q", {16, 2}, TensorType::q8_0, std::vector<uint8_t>(34)); })
                .find("multiple of 32"),
            std::string::npos);
  w.add_tensor("t", {1}, TensorType::f32, std::vector<uint8_t>(4));
  EXPECT_NE(error_of([&] { w.add_tensor("t", {1}, TensorType::f32, std::vector<uint8_t>(4)); }).find("added twice"),
            std::string::npos);
}

TEST(GgufReader, RejectsDamagedFiles) {
  TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_tensor("t", {64}, TensorType::f32, std::vector<uint8_t>(256));
  w.write(dir / "ok.gguf");
  const std::string ok = testing_support::slurp(dir / "ok.gguf");
  EXPECT_NO_THROW(GgufFile::read(dir / "ok.gguf"));

  auto damaged = [&](std::string bytes) {
    const std::string p = dir.write("bad.gguf", bytes);
    return error_of([&] { GgufFile::read(p); });
  };
  std::string bad_magic = ok;
  bad_magic[0] = 'X';
  EXPECT_NE(damaged(bad_magic).find("bad magic"), std::string::npos);
  std::string v2 = ok;
  v2[4] = 2;
  EXPECT_NE(damaged(v2).find("version 2 is not supported"), std::string::npos);
  EXPECT_NE(damaged(ok.substr(0, 40)).find("truncated"), std::string::npos);
  // The tensor's data cut short: its 256 bytes no longer fit.
  const std::string msg = damaged(ok.substr(0, ok.size() - 8));
  EXPECT_NE(msg.find("beyond the end of the data section"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
  // A string length far beyond the file.
  std::string long_key = ok;
  const uint64_t huge = 1ull << 40;
  std::memcpy(long_key.data() + 24, &huge, 8);
  EXPECT_NE(damaged(long_key).find("truncated"), std::string::npos);
}

TEST(GgufQuant, F16ConversionRoundsToNearest) {
  // Representable values come back exactly; others within half a unit in the last place.
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.960464477539063e-08f};
  EXPECT_EQ(gguf_decode(gguf_encode(exact, TensorType::f16), TensorType::f16, 7), exact);
  const std::vector<float> v = random_values(4096, 0.05f, 3);
  const std::vector<float> back = gguf_decode(gguf_encode(v, TensorType::f16), TensorType::f16, 4096);
  for (size_t i = 0; i < v.size(); ++i) {
    const float ulp = std::fabs(v[i]) >= 6.103515625e-05f ? std::ldexp(1.0f, std::ilogb(v[i]) - 10)
                                                         : 5.960464477539063e-08f;
    ASSERT_LE(std::fabs(back[i] - v[i]), 0.5f * ulp) << v[i];
  }
  // Ties go to the even neighbour: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(gguf_decode(gguf_encode(std::vector<float>{1.0f + 0x1p-11f}, TensorType::f16), TensorType::f16, 1)[0], 1.0f);
  EXPECT_NE(error_of([] { gguf_encode(std::vector<float>{70000.0f}, TensorType::f16); }).find("fp16 range"),
            std::string::npos);
}

TEST(GgufQuant, Bf16ConversionRoundsToNearestEven) {
  // Representable values (8 significant bits, the full f32 range) come back exactly; others within
  // half a unit in the last place (2^-8 of the value's binade); ties to even; 2 bytes per value.
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.5f, 0x1.fep127f, 0x1p-126f, 69632.0f};
  EXPECT_EQ(gguf_encode(exact, TensorType::bf16).size(), 2 * exact.size());
  EXPECT_EQ(gguf_decode(gguf_encode(exact, TensorType::bf16), TensorType::bf16, 7), exact);
  const std::vector<float> v = random_values(4096, 0.05f, 4);
  const std::vector<float> back = gguf_decode(gguf_encode(v, TensorType::bf16), TensorType::bf16, 4096);
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_LE(std::fabs(back[i] - v[i]), 0.5f * std::ldexp(1.0f, std::ilogb(v[i]) - 7)) << v[i];
  }
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to the even one, 1; 1 + 3 * 2^-8 up to 1 + 2^-6.
  EXPECT_EQ(gguf_decode(gguf_encode(std::vector<float>{1.0f + 0x1p-8f}, TensorType::bf16), TensorType::bf16, 1)[0], 1.0f);
  EXPECT_EQ(gguf_decode(gguf_encode(std::vector<float>{1.0f + 0x3p-8f}, TensorType::bf16), TensorType::bf16, 1)[0],
            1.0f + 0x1p-6f);
  EXPECT_EQ(gguf::tensor_type_from_name("bf16"), TensorType::bf16);
  EXPECT_EQ(static_cast<uint32_t>(TensorType::bf16), 30u);  // ggml's GGML_TYPE_BF16
}

TEST(GgufQuant, Q8_0ErrorBound) {
  // Blocks of very different magnitudes, one all zero.
  std::vector<float> v;
  for (float scale : {1e-4f, 0.02f, 1.0f, 300.0f}) {
    const auto r = random_values(256, scale, static_cast<uint64_t>(scale * 1e4f));
    v.insert(v.end(), r.begin(), r.end());
  }
  v.insert(v.end(), 32, 0.0f);
  const auto n = static_cast<int64_t>(v.size());
  const std::vector<uint8_t> q = gguf_encode(v, TensorType::q8_0);
  ASSERT_EQ(q.size(), static_cast<size_t>(n / 32 * 34));
  const std::vector<float> back = gguf_decode(q, TensorType::q8_0, n);
  for (int64_t b = 0; b < n / 32; ++b) {
    uint16_t d_bits;
    std::memcpy(&d_bits, q.data() + b * 34, 2);
    const float d = core::half_bits_to_float(d_bits);
    float amax = 0;
    for (int64_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b * 32 + j]));
    // The scale is max|x| / 127 rounded to fp16: relative error 2^-11, or 2^-25 absolute where
    // it is an fp16 subnormal (below 2^-14; the 1e-4 blocks).
    const float exact = amax / 127.0f, scale_err = std::max(exact * 0x1p-11f, 0x1p-25f);
    EXPECT_LE(std::fabs(d - exact), scale_err) << "block " << b;
    for (int64_t j = 0; j < 32; ++j) {
      // Half a quantisation step, plus what the scale's rounding costs the largest value (127
      // steps), plus float rounding of x / d.
      ASSERT_LE(std::fabs(back[b * 32 + j] - v[b * 32 + j]), (0.5f * d + 127 * std::fabs(d - exact)) * (1 + 1e-5f))
          << "block " << b << " j " << j;
    }
  }
  for (int64_t j = n - 32; j < n; ++j) EXPECT_EQ(back[j], 0.0f);
  // The largest value of a block is one of +-127 * d.
  const std::vector<float> ramp = [] {
    std::vector<float> r(32);
    for (int i = 0; i < 32; ++i) r[i] = static_cast<float>(i - 16) * 0.37f;
    return r;
  }();
  const std::vector<uint8_t> rq = gguf_encode(ramp, TensorType::q8_0);
  EXPECT_EQ(static_cast<int8_t>(rq[2]), -127);
  EXPECT_NE(error_of([] { gguf_encode(std::vector<float>(31, 1.0f), TensorType::q8_0); }).find("multiple of 32"),
            std::string::npos);
}

TEST(GgufExport, Gpt2NamesLayoutsAndTokenizer) {
  TempDir dir;
  const datasets::Tokenizer tok = small_tokenizer(280);
  const auto V = static_cast<int64_t>(tok.vocab_size()) + 4;  // 4 padding ids
  ModelConfig c = small_config("gpt2", V);
  c.tie_embeddings = false;
  core::Transformer m(c);
  m.init_weights(5);
  export_gguf(c, m.params(), tok, dir / "g.gguf");
  const GgufFile f = GgufFile::read(dir / "g.gguf");

  EXPECT_EQ(f.at("general.architecture").as_string(), "gpt2");
  EXPECT_EQ(f.at("general.file_type").as_uint(), 0u);
  EXPECT_EQ(f.at("gpt2.context_length").as_uint(), 16u);
  EXPECT_EQ(f.at("gpt2.embedding_length").as_uint(), 64u);
  EXPECT_EQ(f.at("gpt2.block_count").as_uint(), 2u);
  EXPECT_EQ(f.at("gpt2.feed_forward_length").as_uint(), 256u);
  EXPECT_EQ(f.at("gpt2.attention.head_count").as_uint(), 4u);
  EXPECT_FLOAT_EQ(static_cast<float>(f.at("gpt2.attention.layer_norm_epsilon").as_float()), 1e-5f);

  std::set<std::string> names;
  for (const auto& t : f.tensors()) names.insert(t.name);
  std::set<std::string> want = {"token_embd.weight", "position_embd.weight", "output_norm.weight",
                                "output_norm.bias", "output.weight"};
  for (int i = 0; i < 2; ++i) {
    for (const char* s : {"attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias",
                          "attn_output.weight", "attn_output.bias", "ffn_norm.weight", "ffn_norm.bias",
                          "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"}) {
      want.insert("blk." + std::to_string(i) + "." + s);
    }
  }
  EXPECT_EQ(names, want);
  // (out, in) weights with dims [in, out], data in the same row-major order.
  EXPECT_EQ(f.tensor("token_embd.weight").dims, (std::vector<int64_t>{64, V}));
  EXPECT_EQ(f.tensor("position_embd.weight").dims, (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(f.tensor("blk.1.attn_qkv.weight").dims, (std::vector<int64_t>{64, 192}));
  EXPECT_EQ(f.tensor("blk.1.ffn_down.weight").dims, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(f.read_f32("blk.1.attn_qkv.weight"), param_values(m, "blocks.1.attn.qkv.weight"));
  EXPECT_EQ(f.read_f32("blk.0.ffn_down.weight"), param_values(m, "blocks.0.mlp.down.weight"));
  EXPECT_EQ(f.read_f32("output.weight"), param_values(m, "lm_head.weight"));

  // The tokenizer: byte-unicode tokens, specials as text (control), padding ids unused.
  EXPECT_EQ(f.at("tokenizer.ggml.model").as_string(), "gpt2");
  EXPECT_EQ(f.at("tokenizer.ggml.pre").as_string(), "gpt-2");
  const auto& tokens = f.at("tokenizer.ggml.tokens").as_array();
  const auto& types = f.at("tokenizer.ggml.token_type").as_array();
  ASSERT_EQ(tokens.size(), static_cast<size_t>(V));
  ASSERT_EQ(types.size(), static_cast<size_t>(V));
  EXPECT_EQ(tokens[' '].as_string(), "\xc4\xa0");  // byte 0x20 is U+0120
  const uint32_t eot = tok.eot_id();
  EXPECT_EQ(tokens[eot].as_string(), "<|endoftext|>");
  EXPECT_EQ(types[eot].as_int(), 3);
  EXPECT_EQ(types['a'].as_int(), 1);
  EXPECT_EQ(tokens[V - 1].as_string(), "[PAD" + std::to_string(V - 1) + "]");
  EXPECT_EQ(types[V - 1].as_int(), 5);
  EXPECT_EQ(f.at("tokenizer.ggml.eos_token_id").as_uint(), eot);
  EXPECT_EQ(f.at("tokenizer.ggml.bos_token_id").as_uint(), eot);
  const auto& merges = f.at("tokenizer.ggml.merges").as_array();
  ASSERT_EQ(merges.size(), tok.parts().merges.size());
  const auto [a, b] = tok.parts().merges[0];
  EXPECT_EQ(merges[0].as_string(),
            datasets::bytes_to_unicode(tok.token_bytes(a)) + " " + datasets::bytes_to_unicode(tok.token_bytes(b)));
}

TEST(GgufExport, LlamaSplitsQkvAndInterleavesRopeRows) {
  TempDir dir;
  const datasets::Tokenizer tok = small_tokenizer(300);
  const ModelConfig c = small_config("llama", static_cast<int64_t>(tok.vocab_size()));  // tied: no output.weight
  core::Transformer m(c);
  m.init_weights(6);
  export_gguf(c, m.params(), tok, dir / "l.gguf");
  const GgufFile f = GgufFile::read(dir / "l.gguf");

  EXPECT_EQ(f.at("general.architecture").as_string(), "llama");
  EXPECT_EQ(f.at("llama.attention.head_count").as_uint(), 4u);
  EXPECT_EQ(f.at("llama.attention.head_count_kv").as_uint(), 2u);
  EXPECT_EQ(f.at("llama.feed_forward_length").as_uint(), static_cast<uint64_t>(c.ff_dim()));
  EXPECT_EQ(f.at("llama.rope.dimension_count").as_uint(), 16u);
  EXPECT_FLOAT_EQ(static_cast<float>(f.at("llama.rope.freq_base").as_float()), 10000.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.at("llama.attention.layer_norm_rms_epsilon").as_float()), 1e-5f);
  EXPECT_FALSE(f.has("position_embd.weight") || f.has("output.weight"));
  for (const auto& t : f.tensors()) EXPECT_NE(t.name, "output.weight");

  const int64_t C = 64, D = 16;
  const std::vector<float> qkv = param_values(m, "blocks.1.attn.qkv.weight");
  const std::vector<float> q = f.read_f32("blk.1.attn_q.weight"), k = f.read_f32("blk.1.attn_k.weight"),
                           v = f.read_f32("blk.1.attn_v.weight");
  EXPECT_EQ(f.tensor("blk.1.attn_q.weight").dims, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(f.tensor("blk.1.attn_k.weight").dims, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(f.tensor("blk.1.attn_v.weight").dims, (std::vector<int64_t>{64, 32}));
  // GGUF row 2i + j of a head is our row j * D/2 + i of that head; V rows are not reordered.
  auto row = [&](const std::vector<float>& t, int64_t r) { return std::vector<float>(t.begin() + r * C, t.begin() + (r + 1) * C); };
  for (int64_t h = 0; h < 4; ++h) {
    for (int64_t i = 0; i < D / 2; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        ASSERT_EQ(row(q, h * D + 2 * i + j), row(qkv, h * D + j * D / 2 + i)) << h << " " << i << " " << j;
        if (h < 2) {
          ASSERT_EQ(row(k, h * D + 2 * i + j), row(qkv, 64 + h * D + j * D / 2 + i));
        }
      }
    }
  }
  for (int64_t r = 0; r < 32; ++r) ASSERT_EQ(row(v, r), row(qkv, 96 + r));
  EXPECT_EQ(f.read_f32("blk.0.ffn_gate.weight"), param_values(m, "blocks.0.mlp.gate.weight"));
  EXPECT_EQ(gguf_rope_row_order(4), (std::vector<int64_t>{0, 2, 1, 3}));
}

TEST(GgufExport, QuantisedTypesPerTensor) {
  TempDir dir;
  const datasets::Tokenizer tok = small_tokenizer(300);
  ModelConfig c = small_config("gpt2", static_cast<int64_t>(tok.vocab_size()));
  c.d_model = 48;  // rows of 48: not a multiple of 32, so q8_0 falls back to f16 for those
  c.n_head = 4;
  c.d_ff = 64;
  core::Transformer m(c);
  m.init_weights(7);
  export_gguf(c, m.params(), tok, dir / "q.gguf", {.dtype = TensorType::q8_0});
  export_gguf(c, m.params(), tok, dir / "h.gguf", {.dtype = TensorType::f16});
  const GgufFile q = GgufFile::read(dir / "q.gguf"), h = GgufFile::read(dir / "h.gguf");
  EXPECT_EQ(q.at("general.file_type").as_uint(), 7u);
  EXPECT_EQ(q.at("general.quantization_version").as_uint(), 2u);
  EXPECT_EQ(h.at("general.file_type").as_uint(), 1u);
  EXPECT_EQ(q.tensor("blk.0.attn_norm.weight").type, TensorType::f32);
  EXPECT_EQ(q.tensor("blk.0.attn_qkv.bias").type, TensorType::f32);
  EXPECT_EQ(q.tensor("blk.0.attn_qkv.weight").type, TensorType::f16);  // rows of 48
  EXPECT_EQ(q.tensor("blk.0.ffn_down.weight").type, TensorType::q8_0);  // rows of 64
  EXPECT_EQ(h.tensor("blk.0.ffn_down.weight").type, TensorType::f16);
  EXPECT_EQ(h.tensor("output_norm.bias").type, TensorType::f32);
  const std::vector<float> w = param_values(m, "blocks.0.mlp.down.weight"), qw = q.read_f32("blk.0.ffn_down.weight");
  for (size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(qw[i], w[i], 0.01f);  // weights ~0.02: q8_0 step < 1e-3
}

TEST(GgufExport, RejectsALargerTokenizer) {
  TempDir dir;
  const datasets::Tokenizer tok = small_tokenizer(300);
  const ModelConfig c = small_config("gpt2", static_cast<int64_t>(tok.vocab_size()) - 1);
  core::Transformer m(c);
  EXPECT_NE(error_of([&] { export_gguf(c, m.params(), tok, dir / "x.gguf"); }).find("more than the model's vocabulary"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::interchange
