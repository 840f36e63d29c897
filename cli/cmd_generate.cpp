// tessera generate --ckpt REF --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--seed S]
// [--tokenizer FILE]: continues a prompt with a checkpoint's model on this process's CPU.
#include <cstring>
#include <filesystem>
#include <iostream>

#include "checkpoint/checkpoint.h"
#include "checkpoint/run_tokenizer.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "datasets/tokenizer.h"
#include "train/sampler.h"

namespace tessera::cli {

void add_generate_command(CLI::App& app, Context&) {
  struct Options {
    std::string ckpt, prompt, tokenizer;
    train::SampleOptions sample;
  };
  auto opts = std::make_shared<Options>();
  opts->sample.max_tokens = 64;
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a checkpoint's model");
  cmd->add_option("--ckpt", opts->ckpt, "Checkpoint: FILE, RUN_DIR (its latest) or RUN_DIR:TAG")->required();
  cmd->add_option("--prompt", opts->prompt, "Text to continue")->required();
  cmd->add_option("--max-tokens", opts->sample.max_tokens, "Tokens to generate (default 64)");
  cmd->add_option("--temperature", opts->sample.temperature, "0 for greedy (default), else the sampling temperature");
  cmd->add_option("--top-k", opts->sample.top_k, "Sample among the k most likely tokens (0: all)");
  cmd->add_option("--seed", opts->sample.seed, "Sampling seed");
  cmd->add_option("--tokenizer", opts->tokenizer, "Tokenizer file (default: the run's tokenizer.json, else its data's)");
  cmd->callback([opts] {
    checkpoint::Weights weights = checkpoint::load_weights(opts->ckpt);
    const auto found = checkpoint::find_tokenizer(weights, opts->tokenizer);
    TESSERA_CHECK(found.has_value(), "checkpoint '{}' has no tokenizer beside it (RUN_DIR/tokenizer.json) or its "
                  "data: pass --tokenizer FILE", opts->ckpt);
    const datasets::Tokenizer& tokenizer = *found;
    core::Transformer model(weights.config.model);
    TESSERA_CHECK(model.params().numel() == weights.params.numel(), "checkpoint '{}' holds {} weights, the model {}",
                  opts->ckpt, weights.params.numel(), model.params().numel());
    std::memcpy(model.params().flat().data<float>(), weights.params.flat().data<float>(),
                static_cast<size_t>(weights.params.numel()) * sizeof(float));
    std::vector<int32_t> prompt;
    for (datasets::TokenId id : tokenizer.encode(opts->prompt)) prompt.push_back(static_cast<int32_t>(id));
    TESSERA_CHECK(!prompt.empty(), "the prompt is empty");
    opts->sample.stop_token = static_cast<int64_t>(tokenizer.eot_id());
    opts->sample.vocab_limit = static_cast<int64_t>(tokenizer.vocab_size());
    std::vector<int32_t> out = train::generate(model, prompt, opts->sample);
    if (!out.empty() && out.back() == opts->sample.stop_token) out.pop_back();
    const std::vector<datasets::TokenId> ids(out.begin(), out.end());
    std::cout << opts->prompt << tokenizer.decode(ids) << std::endl;
  });
}

}  // namespace tessera::cli
