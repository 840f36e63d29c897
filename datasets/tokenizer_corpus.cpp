#include "datasets/tokenizer_corpus.h"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace tessera::datasets {

size_t last_safe_cut(std::string_view text, size_t from) {
  for (size_t i = text.size(); i-- > std::max<size_t>(from, 1);) {
    if (text[i] == '\n' && text[i - 1] >= '!' && text[i - 1] <= '~') return i;
  }
  return std::string_view::npos;
}

void count_file_words(const std::string& path, WordCounts& counts, Progress* progress) {
  constexpr size_t kBlock = size_t{4} << 20;
  std::error_code ec;
  TESSERA_CHECK(!std::filesystem::is_directory(path, ec), "cannot read {}: it is a directory", path);
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::string pending;
  while (in) {
    const size_t old = pending.size();
    pending.resize(old + kBlock);
    in.read(pending.data() + old, static_cast<std::streamsize>(kBlock));
    const auto got = static_cast<size_t>(in.gcount());
    pending.resize(old + got);
    TESSERA_CHECK(!in.bad(), "cannot read {}: {}", path, std::strerror(errno));
    if (progress) progress->advance(static_cast<double>(got) / 1e6);
    const size_t cut = last_safe_cut(pending, old);  // the text before `old` holds no cut
    if (cut == std::string::npos) continue;
    counts.add_text(std::string_view(pending).substr(0, cut));
    pending.erase(0, cut);
  }
  counts.add_text(pending);
}

}  // namespace tessera::datasets
