#include "checkpoint/run_tokenizer.h"

#include <filesystem>
#include <vector>

#include "checkpoint/reference.h"
#include "core/error.h"
#include "datasets/manifest.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

std::optional<datasets::Tokenizer> find_tokenizer(const Weights& w, const std::string& given) {
  std::vector<fs::path> candidates;
  if (!given.empty()) {
    candidates.push_back(given);
  } else {
    if (const auto run = run_dir_of(w.file)) candidates.push_back(*run / datasets::kTokenizerFile);
    if (!w.config.data.dir.empty()) candidates.push_back(fs::path(w.config.data.dir) / datasets::kTokenizerFile);
  }
  for (const fs::path& p : candidates) {
    if (given.empty() && !fs::exists(p)) continue;
    datasets::Tokenizer tok = datasets::Tokenizer::load(p.string());
    TESSERA_CHECK(w.meta.tokenizer_hash.empty() || tok.hash() == w.meta.tokenizer_hash,
                  "tokenizer {} (hash {}) is not the one checkpoint {} was trained with (hash {})", p.string(),
                  tok.hash(), w.file.string(), w.meta.tokenizer_hash);
    return tok;
  }
  return std::nullopt;
}

}  // namespace tessera::checkpoint
