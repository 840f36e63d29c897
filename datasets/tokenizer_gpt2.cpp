// GPT-2's own files: encoder.json ({"token": id} in byte-unicode form) and vocab.bpe (a
// "#version: 0.2" line, then one merge "left right" per line in rank order). GPT-2 has one special
// token, "<|endoftext|>", stored in encoder.json like any other token.
#include <string>

#include "core/error.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_io.h"

namespace tessera::datasets {

Tokenizer Tokenizer::load_gpt2(const std::string& encoder_json, const std::string& vocab_bpe) {
  const nlohmann::json encoder = parse_json(read_file(encoder_json), encoder_json);
  TESSERA_CHECK(encoder.is_object(), "{}: expected a JSON object of token -> id", encoder_json);
  BpeParts parts;
  TokenIndex index;
  for (const auto& [token, id] : encoder.items()) {
    TESSERA_CHECK(id.is_number_unsigned(), "{}: the id of '{}' must be a non-negative integer, not {}", encoder_json,
                  token, id.dump());
    add_vocab_token(token, id.get<uint64_t>(), parts.tokens, index, encoder_json);
  }
  check_no_gaps(parts.tokens, encoder_json);

  const std::string bpe = read_file(vocab_bpe);
  size_t line_no = 0;
  for (size_t pos = 0; pos < bpe.size();) {
    size_t end = bpe.find('\n', pos);
    if (end == std::string::npos) end = bpe.size();
    std::string_view line(bpe.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    const auto halves = split_merge(line);
    TESSERA_CHECK(halves.has_value(), "{}:{}: expected a merge \"left right\", got \"{}\"", vocab_bpe, line_no, line);
    parts.merges.push_back(merge_ids(index, std::string(halves->first), std::string(halves->second),
                                     parts.merges.size(), vocab_bpe));
  }

  if (const auto it = index.find("<|endoftext|>"); it != index.end()) parts.specials.push_back(it->second);
  return from_parts(std::move(parts), encoder_json + " + " + vocab_bpe);
}

}  // namespace tessera::datasets
