#include "interchange/gguf_tokenizer.h"

#include <fmt/format.h>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "datasets/tokenizer_io.h"

namespace tessera::interchange {
namespace {

// llama.cpp's token types (llama_token_type).
constexpr int64_t kTokenNormal = 1, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5;

// A string key that must hold `want`, when present (`required`: also when absent).
void require_string(const GgufFile& f, const std::string& key, const std::string& want, bool required,
                    const std::string& source) {
  if (!f.has(key)) {
    TESSERA_CHECK(!required, "{}: no key '{}' (Tessera reads \"{}\")", source, key, want);
    return;
  }
  const std::string& got = f.at(key).as_string();
  TESSERA_CHECK(got == want, "{}: {} = \"{}\" is not supported (only \"{}\")", source, key, got, want);
}

}  // namespace

void write_gguf_tokenizer(GgufWriter& w, const datasets::Tokenizer& tok, int64_t vocab_size) {
  const datasets::BpeParts& p = tok.parts();
  TESSERA_CHECK(static_cast<int64_t>(p.tokens.size()) <= vocab_size, "the tokenizer has {} tokens, more than the "
                "model's vocabulary of {}", p.tokens.size(), vocab_size);
  std::vector<bool> special(p.tokens.size(), false);
  for (const datasets::TokenId id : p.specials) special[id] = true;
  // Byte-level BPE vocabularies spell ordinary tokens in the byte-unicode form and special tokens
  // as their text, as GPT-2's encoder.json and tokenizer.json do.
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (size_t i = 0; i < p.tokens.size(); ++i) {
    tokens.push_back(special[i] ? p.tokens[i] : datasets::bytes_to_unicode(p.tokens[i]));
    types.push_back(static_cast<int32_t>(special[i] ? kTokenControl : kTokenNormal));
  }
  for (auto i = static_cast<int64_t>(p.tokens.size()); i < vocab_size; ++i) {
    tokens.push_back(fmt::format("[PAD{}]", i));
    types.push_back(static_cast<int32_t>(kTokenUnused));
  }
  std::vector<std::string> merges;
  merges.reserve(p.merges.size());
  for (const auto& [a, b] : p.merges) {
    merges.push_back(datasets::bytes_to_unicode(p.tokens[a]) + " " + datasets::bytes_to_unicode(p.tokens[b]));
  }
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_i32s("tokenizer.ggml.token_type", types);
  w.add_strings("tokenizer.ggml.merges", merges);
  if (const auto eot = tok.special_id("<|endoftext|>")) {
    w.add_u32("tokenizer.ggml.bos_token_id", *eot);
    w.add_u32("tokenizer.ggml.eos_token_id", *eot);
  }
  w.add_bool("tokenizer.ggml.add_bos_token", false);
}

datasets::Tokenizer read_gguf_tokenizer(const GgufFile& f, const std::string& source) {
  require_string(f, "tokenizer.ggml.model", "gpt2", true, source);
  require_string(f, "tokenizer.ggml.pre", "gpt-2", true, source);
  TESSERA_CHECK(!f.has("tokenizer.ggml.add_bos_token") || !f.at("tokenizer.ggml.add_bos_token").as_bool(),
                "{}: tokenizer.ggml.add_bos_token = true is not supported (Tessera adds no BOS token)", source);
  const auto& tokens = f.at("tokenizer.ggml.tokens").as_array();
  std::vector<int64_t> types(tokens.size(), kTokenNormal);
  if (f.has("tokenizer.ggml.token_type")) {
    const auto& t = f.at("tokenizer.ggml.token_type").as_array();
    TESSERA_CHECK(t.size() == tokens.size(), "{}: {} token types for {} tokens", source, t.size(), tokens.size());
    for (size_t i = 0; i < t.size(); ++i) types[i] = t[i].as_int();
  }
  size_t n = tokens.size();  // trailing unused tokens pad the model's vocabulary: not the tokenizer's
  while (n > 0 && types[n - 1] == kTokenUnused) --n;

  datasets::BpeParts parts;
  datasets::TokenIndex index;
  for (size_t i = 0; i < n; ++i) {
    const std::string& token = tokens[i].as_string();
    const bool special = types[i] == kTokenControl || types[i] == kTokenUserDefined;
    TESSERA_CHECK(special || types[i] == kTokenNormal || types[i] == kTokenUnused, "{}: token {} ('{}') has "
                  "type {}, which a byte-level BPE vocabulary does not use", source, i, token, types[i]);
    datasets::add_vocab_token(special ? datasets::bytes_to_unicode(token) : token, i, parts.tokens, index, source);
    if (special) parts.specials.push_back(static_cast<datasets::TokenId>(i));
  }
  if (f.has("tokenizer.ggml.merges")) {
    const auto& merges = f.at("tokenizer.ggml.merges").as_array();
    parts.merges.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const std::string& m = merges[rank].as_string();
      const auto halves = datasets::split_merge(m);
      TESSERA_CHECK(halves.has_value(), "{}: merge {} must be \"left right\", not \"{}\"", source, rank, m);
      parts.merges.push_back(datasets::merge_ids(index, std::string(halves->first), std::string(halves->second),
                                                 rank, source));
    }
  }
  return datasets::Tokenizer::from_parts(std::move(parts), source);
}

}  // namespace tessera::interchange
