// safetensors: bit-exact round trips, F16/BF16 widening, a hand-written file in the format's
// layout, and every header rule of the reader, each rejected with a message naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "interchange/safetensors.h"
#include "tests/unit/test_support.h"

namespace tessera::interchange {
namespace {

using testing_support::error_of;
using testing_support::TempDir;

// A file of the given header text (its length prefixed) and data bytes.
std::string st_file(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + data;
}

bool same_bits(const core::Tensor& a, const core::Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.nbytes())) == 0;
}

TEST(Safetensors, RoundTripIsBitExact) {
  TempDir dir;
  std::mt19937 rng(11);
  // Every fp32 bit pattern is kept, NaN payloads and negative zero included.
  core::Tensor a = core::Tensor::empty({3, 5});
  for (int64_t i = 0; i < a.numel(); ++i) {
    const auto bits = static_cast<uint32_t>(rng());
    std::memcpy(a.data<float>() + i, &bits, 4);
  }
  core::Tensor h = core::Tensor::empty({7}, core::DType::f16);
  core::Tensor b = core::Tensor::empty({2, 2, 2}, core::DType::bf16);
  for (int64_t i = 0; i < h.numel(); ++i) h.data<core::f16>()[i].bits = static_cast<uint16_t>(rng() & 0x7bff);
  for (int64_t i = 0; i < b.numel(); ++i) b.data<core::bf16>()[i].bits = static_cast<uint16_t>(rng() & 0x7f7f);
  const core::Tensor empty = core::Tensor::empty({0, 4});
  write_safetensors(dir / "m.safetensors", {{"a", a}, {"half", h}, {"brain", b}, {"empty", empty}},
                    {{"format", "pt"}});

  const std::string bytes = testing_support::slurp(dir / "m.safetensors");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);  // padded so the data starts 8-byte aligned
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["a"]["dtype"], "F32");
  EXPECT_EQ(header["half"]["shape"], nlohmann::json({7}));
  EXPECT_EQ(header["brain"]["data_offsets"], nlohmann::json({60 + 14, 60 + 14 + 16}));
  EXPECT_EQ(bytes.size(), 8 + n + 60 + 14 + 16);

  const SafetensorsReader r(dir / "m.safetensors");
  EXPECT_EQ(r.entries().size(), 4u);
  EXPECT_EQ(r.metadata().at("format"), "pt");
  EXPECT_TRUE(same_bits(r.read_f32("a"), a));
  EXPECT_EQ(r.read_f32("empty").shape(), (core::Shape{0, 4}));
  const core::Tensor hf = r.read_f32("half"), bf = r.read_f32("brain");
  EXPECT_EQ(hf.dtype(), core::DType::f32);
  for (int64_t i = 0; i < h.numel(); ++i) {
    EXPECT_EQ(hf.data<float>()[i], core::half_bits_to_float(h.data<core::f16>()[i].bits));
  }
  for (int64_t i = 0; i < b.numel(); ++i) {
    const uint32_t bits = static_cast<uint32_t>(b.data<core::bf16>()[i].bits) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    EXPECT_EQ(bf.data<float>()[i], f);
  }
}

TEST(Safetensors, ReadsAHandWrittenFile) {
  TempDir dir;
  const float values[3] = {1.5f, -2.0f, 0.25f};
  const uint16_t bf[2] = {0x3f80, 0xc040};  // 1.0, -3.0
  std::string data(reinterpret_cast<const char*>(bf), 4);
  data += std::string(reinterpret_cast<const char*>(values), 12);
  const std::string p = dir.write(
      "x.safetensors", st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[4,16]},)"
                               R"("b":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}})", data));
  const SafetensorsReader r(p);
  const core::Tensor w = r.read_f32("w"), b = r.read_f32("b");
  EXPECT_EQ(w.shape(), (core::Shape{3}));
  EXPECT_EQ(w.data<float>()[1], -2.0f);
  EXPECT_EQ(b.shape(), (core::Shape{1, 2}));
  EXPECT_EQ(b.data<float>()[0], 1.0f);
  EXPECT_EQ(b.data<float>()[1], -3.0f);
  EXPECT_NE(error_of([&] { r.read_f32("nope"); }).find("no tensor 'nope'"), std::string::npos);
}

struct BadHeader {
  const char* what;
  std::string bytes;
  const char* message;
};

TEST(Safetensors, RejectsMalformedHeaders) {
  TempDir dir;
  const std::string data8(8, '\0');
  const std::vector<BadHeader> cases = {
      {"shorter than the length", "abc", "too short for the header length"},
      {"length beyond the file", st_file("{}", "").substr(0, 8) + "{", "exceeds the file"},
      {"broken JSON", st_file(R"({"a": {"dtype": "F32",)", data8), "not valid JSON"},
      {"not an object", st_file("[1, 2]", data8), "must be a JSON object"},
      {"entry not an object", st_file(R"({"a": 3})", data8), "header entry must be an object"},
      {"no dtype", st_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", data8), "missing string \"dtype\""},
      {"unknown dtype", st_file(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", data8),
       "unknown dtype \"F33\""},
      {"negative dim", st_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8),
       "non-negative integers"},
      {"fractional dim", st_file(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data8),
       "non-negative integers"},
      {"one offset", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", data8),
       "two non-negative integers"},
      {"backwards", st_file(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", data8), "run backwards"},
      {"beyond the data", st_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8),
       "lie beyond the data"},
      {"size mismatch", st_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8), "need 12"},
      {"overlap", st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}})", data8), "overlap"},
      {"overflowing shape",
       st_file(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8), "overflows"},
      {"bad metadata", st_file(R"({"__metadata__":{"k":1}})", ""), "is not a string"},
  };
  for (const BadHeader& c : cases) {
    const std::string p = dir.write("bad.safetensors", c.bytes);
    const std::string msg = error_of([&] { SafetensorsReader r(p); });
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.what << ": " << msg;
    EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << c.what << ": " << msg;
  }
  // A known but unconverted dtype is refused when read.
  const std::string p = dir.write("i64.safetensors", st_file(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", data8));
  const SafetensorsReader r(p);
  EXPECT_NE(error_of([&] { r.read_f32("a"); }).find("Tessera reads F32, F16 and BF16"), std::string::npos);
}

TEST(Safetensors, WriterRejectsRepeatedNamesAndOtherDtypes) {
  TempDir dir;
  const core::Tensor t = core::Tensor::zeros({2});
  EXPECT_NE(error_of([&] { write_safetensors(dir / "a", {{"x", t}, {"x", t}}); }).find("reserved or repeated"),
            std::string::npos);
  EXPECT_NE(error_of([&] { write_safetensors(dir / "b", {{"x", core::Tensor::zeros({2}, core::DType::i32)}}); })
                .find("not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::interchange
