#pragma once
// Where a served model comes from: one loader for every command that runs a model (generate,
// bench decode, serve, eval). A reference -> the model's config, its whole f32 weights and its
// tokenizer; shard_model() then gives this rank its tensor-parallel shard.
//   ckpt:  a registry checkpoint: FILE.h5, RUN_DIR (its latest) or RUN_DIR:TAG; the tokenizer is
//          the run's or its data's (checkpoint/run_tokenizer.h)
//   model: a GGUF file (f32, f16 or q8_0 tensors, dequantized to f32; interchange/gguf_import.h)
//          with the tokenizer of its keys, or a Hugging Face folder (config.json, safetensors,
//          tokenizer.json; interchange/hf_import.h)
// A tokenizer file, when given, replaces the source's own. Local: one process reads everything;
// every rank of a tensor-parallel group loads the same source.
#include <memory>
#include <optional>
#include <string>

#include "run/config.h"
#include "core/model/transformer.h"
#include "datasets/tokenizer.h"

namespace tessera::serve {

struct ModelRef {
  std::string ckpt = {};       // a registry reference, or ...
  std::string model = {};      // ... a GGUF file or a Hugging Face folder (exactly one of the two)
  std::string tokenizer = {};  // optional: a tokenizer file that replaces the source's own
};

struct ModelSource {
  std::string name;                              // the reference, for messages
  Config config;                                 // a checkpoint's saved config; else defaults around the model
  std::optional<datasets::Tokenizer> tokenizer;  // none: a checkpoint or folder without one
  std::unique_ptr<core::Transformer> model;      // whole, f32

  // The tokenizer, or an error saying how to give one.
  const datasets::Tokenizer& require_tokenizer() const;
};

// Throws tessera::Error naming the path for a missing path, a file of another kind (a checkpoint
// given as a model says to use ckpt) and for what the formats' readers refuse.
ModelSource load_model_source(const ModelRef& ref);

// This rank's model for `tp` (its shard of every split parameter); nullptr: the whole model,
// moved out of the source.
std::unique_ptr<core::Transformer> shard_model(ModelSource& source, core::TpGroup* tp);
// This rank's shard for `tp` of a whole f32 model (`config` its configuration), which is left as is.
std::unique_ptr<core::Transformer> shard_model(const core::Transformer& whole, const ModelConfig& config,
                                               core::TpGroup& tp);

}  // namespace tessera::serve
