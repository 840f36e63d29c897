#pragma once
// Counting the words of text files for BPE training, a block at a time so that a large corpus never
// has to fit in memory twice.
#include <string>
#include <string_view>

#include "run/progress.h"
#include "datasets/tokenizer_train.h"

namespace tessera::datasets {

// The last position in `text` where pre-tokenisation always cuts whatever follows: just before a
// '\n' that follows a printable ASCII character (no piece holds both, and no match before it looks
// past the '\n'). Only positions from `from` on are looked at; npos when there is none.
size_t last_safe_cut(std::string_view text, size_t from = 0);

// Adds the words of the file at `path` to `counts`: the same counts as add_text() of the whole file.
// Advances `progress` (when given) by the megabytes read.
void count_file_words(const std::string& path, WordCounts& counts, Progress* progress = nullptr);

}  // namespace tessera::datasets
