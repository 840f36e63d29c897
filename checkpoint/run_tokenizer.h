#pragma once
// The tokenizer a checkpoint was trained with, found from the checkpoint alone, from any working
// directory: `given` when not empty, else RUN_DIR/tokenizer.json (the copy every training run and
// import-hf keep in their run directory), else the prepared data's tokenizer.json (data.dir of
// the checkpoint's config, absolute in runs made since run directories keep it so). A tokenizer
// whose hash differs from the checkpoint's record is an error. Local.
#include <optional>
#include <string>

#include "checkpoint/checkpoint.h"
#include "datasets/tokenizer.h"

namespace tessera::checkpoint {

std::optional<datasets::Tokenizer> find_tokenizer(const Weights& weights, const std::string& given);

}  // namespace tessera::checkpoint
