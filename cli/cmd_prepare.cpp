// tessera prepare: text inputs -> HDF5 token shards, tokenizer.json and manifest.json.
#include "cli/command.h"
#include "datasets/prepare.h"

namespace tessera::cli {

void add_prepare_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "prepare",
      "Filter, deduplicate, split and tokenize text into HDF5 token shards (run under mpirun to share the work)");
  struct Args {
    std::vector<std::string> inputs;
    std::string out, tokenizer, format = "auto";
    bool train_tokenizer = false;
    uint64_t vocab_size = 0;
    double val_fraction = 0.05;
    uint64_t seed = 1337;
    uint64_t shard_tokens = 100'000'000;
    datasets::FilterOptions filters;
    double near_dedup = 0.0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--input", args->inputs, "Input files or directories, read in this order")->required();
  cmd->add_option("--out", args->out, "Output directory")->required();
  auto* tok = cmd->add_option("--tokenizer", args->tokenizer, "Tokenizer to use (Tessera or Hugging Face JSON)");
  auto* train =
      cmd->add_flag("--train-tokenizer", args->train_tokenizer, "Train a BPE tokenizer on the training split");
  tok->excludes(train);
  cmd->add_option("--vocab-size", args->vocab_size, "Vocabulary size of the trained tokenizer")->needs(train);
  cmd->add_option("--format", args->format, "Input format")
      ->check(CLI::IsMember({"auto", "text", "jsonl", "fortune"}))
      ->capture_default_str();
  cmd->add_option("--val-fraction", args->val_fraction, "Fraction of documents for validation, in [0, 1)")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the train/validation split")->capture_default_str();
  cmd->add_option("--shard-tokens", args->shard_tokens, "Maximum tokens per shard")->capture_default_str();
  auto& f = args->filters;
  cmd->add_flag("--mask-pii", f.mask_pii,
                "Replace e-mail addresses, phone numbers, IP addresses and card numbers by <EMAIL>, <PHONE>, <IP>, <CARD>");
  cmd->add_option("--min-chars", f.min_chars, "Drop documents of fewer characters (0: keep all)")->capture_default_str();
  cmd->add_option("--max-non-text", f.max_non_text,
                  "Drop documents whose share of non-text characters (symbols, control bytes) exceeds this, in [0, 1]")
      ->capture_default_str();
  cmd->add_flag("--dedup,!--no-dedup", f.dedup, "Drop exact duplicates of the normalised text (default: on)");
  auto* near = cmd->add_option("--near-dedup", args->near_dedup,
                               "Drop near duplicates: MinHash Jaccard similarity threshold in (0, 1], e.g. 0.8");
  cmd->add_option("--shingle-words", f.shingle_words, "Words per shingle for --near-dedup")
      ->capture_default_str()
      ->needs(near);
  cmd->add_option("--near-dedup-seed", f.near_dedup_seed, "Seed of the MinHash functions for --near-dedup")
      ->capture_default_str()
      ->needs(near);

  cmd->callback([&ctx, args, near] {
    datasets::PrepareOptions o;
    o.inputs = args->inputs;
    o.out_dir = args->out;
    o.format = datasets::parse_input_format(args->format);
    o.tokenizer_path = args->tokenizer;
    o.train_tokenizer = args->train_tokenizer;
    o.vocab_size = args->vocab_size;
    o.val_fraction = args->val_fraction;
    o.seed = args->seed;
    o.shard_tokens = args->shard_tokens;
    o.filters = args->filters;
    if (near->count() > 0) o.filters.near_dedup = args->near_dedup;
    o.tessera_version = TESSERA_VERSION;
    datasets::prepare(o, ctx.world);
  });
}

}  // namespace tessera::cli
