// tessera tokenizer {train, encode, decode, convert}: byte-level BPE tokenizers from the command line.
// Under mpirun, `train` shares the counting of its input files among the ranks and rank 0 trains;
// the other subcommands run on rank 0 only.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "run/progress.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_corpus.h"
#include "datasets/tokenizer_train.h"

namespace tessera::cli {
namespace {

// Where a tokenizer comes from: --tokenizer FILE (Tessera or Hugging Face JSON) or --gpt2 DIR.
struct Source {
  std::string file, gpt2_dir;

  void add_options(CLI::App* cmd) {
    auto* f = cmd->add_option("--tokenizer", file, "Tokenizer file: Tessera JSON or Hugging Face tokenizer.json");
    auto* g = cmd->add_option("--gpt2", gpt2_dir, "Folder holding GPT-2's encoder.json and vocab.bpe");
    f->excludes(g);
  }
  datasets::Tokenizer load() const {
    TESSERA_CHECK(!file.empty() || !gpt2_dir.empty(), "give --tokenizer FILE or --gpt2 DIR");
    if (!file.empty()) return datasets::Tokenizer::load(file);
    return datasets::Tokenizer::load_gpt2(gpt2_dir + "/encoder.json", gpt2_dir + "/vocab.bpe");
  }
};

std::string read_stdin() {
  std::cin >> std::noskipws;
  std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  TESSERA_CHECK(!std::cin.bad(), "cannot read standard input");
  return s;
}

void write_stdout(std::string_view bytes) {
  TESSERA_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size() && std::fflush(stdout) == 0,
                "cannot write standard output");
}

std::vector<datasets::TokenId> parse_ids(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("standard input: not valid JSON: {}", e.what());
  }
  TESSERA_CHECK(j.is_array(), "standard input: expected a JSON array of token ids, got {}", j.type_name());
  std::vector<datasets::TokenId> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    TESSERA_CHECK(j[i].is_number_unsigned() && j[i].get<uint64_t>() <= UINT32_MAX,
                  "standard input: element {} ({}) is not a token id", i, j[i].dump());
    ids.push_back(j[i].get<datasets::TokenId>());
  }
  return ids;
}

void add_train(CLI::App& parent, Context& ctx) {
  auto* cmd = parent.add_subcommand("train", "Train a byte-level BPE tokenizer on plain text files");
  struct Args {
    std::vector<std::string> inputs, specials{"<|endoftext|>"};
    size_t vocab_size = 0;
    std::string out, hf_out;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--input", a->inputs, "Plain text files (UTF-8 or any bytes)")->required();
  cmd->add_option("--vocab-size", a->vocab_size, "Tokens in the vocabulary: 256 bytes + merges + special tokens")
      ->required();
  cmd->add_option("--out", a->out, "Where to write the tokenizer (Tessera JSON)")->required();
  cmd->add_option("--hf-out", a->hf_out, "Also write it as a Hugging Face tokenizer.json");
  cmd->add_option("--special", a->specials, "Special tokens, appended after the merges")->capture_default_str();
  cmd->callback([&ctx, a] {
    const auto& world = ctx.world;
    std::vector<std::string> mine;  // rank r counts files r, r + size, ...
    double megabytes = 0;
    for (size_t i = static_cast<size_t>(world.rank()); i < a->inputs.size(); i += static_cast<size_t>(world.size())) {
      mine.push_back(a->inputs[i]);
      std::error_code ec;
      const auto size = std::filesystem::file_size(a->inputs[i], ec);
      if (!ec) megabytes += static_cast<double>(size) / 1e6;
    }
    datasets::WordCounts counts;
    Progress progress("counting words", megabytes, "MB");
    for (const auto& path : mine) datasets::count_file_words(path, counts, &progress);
    progress.finish();
    const auto gathered = world.gather(counts.serialize());
    if (!world.is_root()) return;
    datasets::WordCounts all;
    for (const auto& bytes : gathered) all.merge(datasets::WordCounts::deserialize(bytes));
    log::info("training a {}-token BPE on {} distinct words ({} in all)", a->vocab_size, all.size(), all.total());
    const auto tok = datasets::train_bpe(all, a->vocab_size, a->specials);
    if (tok.vocab_size() < a->vocab_size)
      log::warn("the corpus allowed only {} tokens (asked for {})", tok.vocab_size(), a->vocab_size);
    tok.save(a->out);
    if (!a->hf_out.empty()) tok.save_hf(a->hf_out);
    log::info("wrote {} ({} tokens, sha256 {})", a->out, tok.vocab_size(), tok.hash());
  });
}

void add_encode(CLI::App& parent, Context& ctx) {
  auto* cmd = parent.add_subcommand("encode", "Encode text on standard input; print a JSON array of token ids");
  struct Args {
    Source source;
    bool special = false;
  };
  auto a = std::make_shared<Args>();
  a->source.add_options(cmd);
  cmd->add_flag("--special", a->special, "Encode special token text (\"<|endoftext|>\") as the special token");
  cmd->callback([&ctx, a] {
    if (!ctx.world.is_root()) return;
    const auto tok = a->source.load();
    const std::string text = read_stdin();
    const auto ids = a->special ? tok.encode_with_special(text) : tok.encode(text);
    write_stdout(nlohmann::json(ids).dump() + "\n");
  });
}

void add_decode(CLI::App& parent, Context& ctx) {
  auto* cmd = parent.add_subcommand("decode", "Decode a JSON array of token ids on standard input to bytes");
  auto source = std::make_shared<Source>();
  source->add_options(cmd);
  cmd->callback([&ctx, source] {
    if (!ctx.world.is_root()) return;
    const auto tok = source->load();
    write_stdout(tok.decode(parse_ids(read_stdin())));
  });
}

void add_convert(CLI::App& parent, Context& ctx) {
  auto* cmd = parent.add_subcommand("convert", "Write a tokenizer as Tessera JSON or Hugging Face tokenizer.json");
  struct Args {
    Source source;
    std::string out, format = "tessera";
  };
  auto a = std::make_shared<Args>();
  a->source.add_options(cmd);
  cmd->add_option("--out", a->out, "Output file")->required();
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"tessera", "hf"}))
      ->capture_default_str();
  cmd->callback([&ctx, a] {
    if (!ctx.world.is_root()) return;
    const auto tok = a->source.load();
    if (a->format == "hf") {
      tok.save_hf(a->out);
    } else {
      tok.save(a->out);
    }
    log::info("wrote {} ({} tokens)", a->out, tok.vocab_size());
  });
}

}  // namespace

void add_tokenizer_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("tokenizer", "Train, apply and convert byte-level BPE tokenizers");
  cmd->require_subcommand(1);
  add_train(*cmd, ctx);
  add_encode(*cmd, ctx);
  add_decode(*cmd, ctx);
  add_convert(*cmd, ctx);
}

}  // namespace tessera::cli
