#include "interchange/gguf_export.h"

#include "core/error.h"
#include "interchange/gguf_quant.h"
#include "interchange/gguf_tensor_map.h"
#include "interchange/gguf_tokenizer.h"
#include "interchange/gguf_writer.h"
#include "interchange/hf_config.h"

namespace tessera::interchange {
namespace {

using gguf::TensorType;

// llama.cpp's file types (llama_ftype) and the ggml quantisation version.
constexpr uint32_t kFileTypeF32 = 0, kFileTypeF16 = 1, kFileTypeQ8_0 = 7, kFileTypeBf16 = 32, kQuantizationVersion = 2;

// A parameter as fp32, row-major.
std::vector<float> param_f32(const core::ParamRegistry& params, const std::string& name) {
  const core::Tensor& t = params[name];
  const core::Tensor f = t.dtype() == core::DType::f32 ? t.clone() : t.to(core::DType::f32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + f.numel());
}

class Exporter {
 public:
  Exporter(const ModelConfig& config, const core::ParamRegistry& params, const GgufExportOptions& options)
      : config_(config), params_(params), options_(options) {}

  GgufWriter& writer() { return writer_; }

  // The mapping's parameter (checked against the shape the config implies), or its rows; with
  // rope_heads, each head of D rows reordered to llama.cpp's interleaved RoPE layout.
  void tensor(const GgufTensorMapping& m) {
    const core::Shape& actual = params_[m.param].shape();
    TESSERA_CHECK(actual == m.shape, "parameter {} has shape {}, expected {}", m.param, core::shape_str(actual),
                  core::shape_str(m.shape));
    std::vector<float> all = param_f32(params_, m.param);
    if (m.rows == 0) {
      add(m.gguf_name, m.shape, std::move(all));
      return;
    }
    const int64_t C = m.shape[1], D = config_.head_dim();
    const std::vector<int64_t> order = gguf_rope_row_order(D);
    std::vector<float> out(static_cast<size_t>(m.rows * C));
    for (int64_t r = 0; r < m.rows; ++r) {
      const int64_t src = m.rope_heads ? r / D * D + order[r % D] : r;
      std::copy_n(all.begin() + (m.row0 + src) * C, C, out.begin() + r * C);
    }
    add(m.gguf_name, {m.rows, C}, std::move(out));
  }

 private:
  void add(const std::string& name, const core::Shape& shape, std::vector<float> values) {
    // GGUF dims run from the contiguous axis outwards: the reverse of the row-major shape.
    std::vector<int64_t> dims(shape.rbegin(), shape.rend());
    TensorType type = TensorType::f32;
    if (shape.size() == 2 && options_.dtype != TensorType::f32) {
      type = options_.dtype != TensorType::q8_0 ? options_.dtype
             : dims[0] % gguf::kQ8Block == 0    ? TensorType::q8_0
                                                : TensorType::f16;
    }
    try {
      writer_.add_tensor(name, dims, type, gguf_encode(values, type));
    } catch (const Error& e) {
      TESSERA_FAIL("GGUF tensor {}: {}", name, e.what());
    }
  }

  const ModelConfig& config_;
  const core::ParamRegistry& params_;
  const GgufExportOptions& options_;
  GgufWriter writer_;
};

void add_hparams(GgufWriter& w, const ModelConfig& c, const GgufExportOptions& o) {
  const std::string arch(family_name(c.family));
  w.add_string("general.architecture", arch);
  w.add_string("general.name", o.name);
  const uint32_t file_type = o.dtype == TensorType::f32    ? kFileTypeF32
                             : o.dtype == TensorType::f16  ? kFileTypeF16
                             : o.dtype == TensorType::bf16 ? kFileTypeBf16
                                                           : kFileTypeQ8_0;
  w.add_u32("general.file_type", file_type);
  if (o.dtype == TensorType::q8_0) w.add_u32("general.quantization_version", kQuantizationVersion);
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  w.add_u32(arch + ".context_length", u32(c.seq_len));
  w.add_u32(arch + ".embedding_length", u32(c.d_model));
  w.add_u32(arch + ".block_count", u32(c.n_layer));
  w.add_u32(arch + ".feed_forward_length", u32(c.ff_dim()));
  w.add_u32(arch + ".attention.head_count", u32(c.n_head));
  w.add_u32(arch + ".attention.head_count_kv", u32(c.kv_heads()));
  w.add_u32(arch + ".vocab_size", u32(c.vocab_size));
  if (c.family == Family::gpt2) {
    w.add_f32(arch + ".attention.layer_norm_epsilon", static_cast<float>(kModelNormEps));
  } else {
    w.add_f32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(kModelNormEps));
    w.add_f32(arch + ".rope.freq_base", static_cast<float>(kModelRopeTheta));
    w.add_u32(arch + ".rope.dimension_count", u32(c.head_dim()));
  }
}

}  // namespace

void export_gguf(const ModelConfig& c, const core::ParamRegistry& params, const datasets::Tokenizer& tokenizer,
                 const std::string& path, const GgufExportOptions& options) {
  Exporter e(c, params, options);
  add_hparams(e.writer(), c, options);
  write_gguf_tokenizer(e.writer(), tokenizer, c.vocab_size);
  for (const GgufTensorMapping& m : gguf_tensor_map(c)) e.tensor(m);
  e.writer().write(path);
}

}  // namespace tessera::interchange
