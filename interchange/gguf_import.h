#pragma once
// A GGUF file of the `gpt2` or `llama` architecture (as Tessera's export or llama.cpp's converters
// write it) -> a Tessera model: the hyper-parameters from the architecture's keys, every tensor
// of gguf_tensor_map.h decoded to fp32 (f32 exact, f16 widened, q8_0 dequantized: q * d), and the
// tokenizer of its keys (gguf_tokenizer.h).
//
// Only models Tessera computes exactly are accepted: the norm epsilon and RoPE base Tessera uses,
// RoPE over the whole head, no RoPE scaling, every tensor present with the shape the keys imply
// and no tensor the model does not have (output.weight absent means tied embeddings). Anything
// else, an unsupported tensor type or a damaged file is a tessera::Error naming the file.
#include <memory>
#include <string>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"

namespace tessera::interchange {

struct GgufModel {
  ModelConfig config;
  std::unique_ptr<core::Transformer> model;  // f32, whole
  datasets::Tokenizer tokenizer;
};

GgufModel import_gguf(const std::string& path);

}  // namespace tessera::interchange
