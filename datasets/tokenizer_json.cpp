// Tessera's own tokenizer format, and load() that tells it from a Hugging Face tokenizer.json.
//
//   {
//     "format": "tessera-tokenizer",
//     "version": 1,
//     "pre_tokenizer": "gpt2",
//     "special_tokens": ["<|endoftext|>"],   raw text of each special token
//     "vocab": ["!", ...],                   token i in byte-unicode form (specials too)
//     "merges": [["Ġ", "t"], ...]            in rank order
//   }
//
// to_json() writes one vocab entry and one merge per line with the keys in this order: the text is
// canonical, so its SHA-256 names the tokenizer.
#include <string>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "datasets/pretokenize.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_formats.h"
#include "datasets/tokenizer_io.h"

namespace tessera::datasets {
namespace {

constexpr const char* kFormat = "tessera-tokenizer";
constexpr int kVersion = 1;

std::string json_quote(std::string_view s) { return nlohmann::json(s).dump(); }

}  // namespace

std::string Tokenizer::to_json() const {
  const BpeParts& p = parts();
  std::string out;
  out.reserve(p.tokens.size() * 24 + p.merges.size() * 24);
  out += "{\n";
  out += "  \"format\": " + json_quote(kFormat) + ",\n";
  out += "  \"version\": " + std::to_string(kVersion) + ",\n";
  out += "  \"pre_tokenizer\": " + json_quote(PreTokenizer::kGpt2Name) + ",\n";
  out += "  \"special_tokens\": [";
  for (size_t i = 0; i < p.specials.size(); ++i) out += (i ? ", " : "") + json_quote(p.tokens[p.specials[i]]);
  out += "],\n  \"vocab\": [";
  for (size_t i = 0; i < p.tokens.size(); ++i) out += (i ? ",\n    " : "\n    ") + json_quote(bytes_to_unicode(p.tokens[i]));
  out += "\n  ],\n  \"merges\": [";
  for (size_t i = 0; i < p.merges.size(); ++i) {
    out += i ? ",\n    [" : "\n    [";
    out += json_quote(bytes_to_unicode(p.tokens[p.merges[i].first])) + ", " +
           json_quote(bytes_to_unicode(p.tokens[p.merges[i].second])) + "]";
  }
  out += p.merges.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

Tokenizer tokenizer_from_own_json(const nlohmann::json& j, const std::string& source) {
  using V = nlohmann::json::value_t;
  TESSERA_CHECK(j.is_object(), "{}: a tokenizer must be a JSON object", source);
  const auto& format = json_member(j, "format", V::string, source);
  TESSERA_CHECK(format == kFormat, "{}: \"format\" is \"{}\", expected \"{}\"", source,
                format.get_ref<const std::string&>(), kFormat);
  const auto& version = json_member(j, "version", V::number_integer, source);
  TESSERA_CHECK(version == kVersion, "{}: tokenizer format version {} is not supported (this build reads {})",
                source, version.dump(), kVersion);
  const auto& pre = json_member(j, "pre_tokenizer", V::string, source);
  TESSERA_CHECK(pre == PreTokenizer::kGpt2Name, "{}: pre-tokenizer \"{}\" is not supported (only \"{}\")", source,
                pre.get_ref<const std::string&>(), PreTokenizer::kGpt2Name);

  BpeParts parts;
  TokenIndex index;
  const auto& vocab = json_member(j, "vocab", V::array, source);
  for (size_t i = 0; i < vocab.size(); ++i) {
    add_vocab_token(json_string(vocab[i], "vocab entry " + std::to_string(i), source), static_cast<TokenId>(i),
                    parts.tokens, index, source);
  }
  const auto& merges = json_member(j, "merges", V::array, source);
  parts.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& m = merges[i];
    TESSERA_CHECK(m.is_array() && m.size() == 2, "{}: merge {} must be a pair of tokens, not {}", source, i,
                  m.dump());
    const std::string what = "merge " + std::to_string(i);
    parts.merges.push_back(merge_ids(index, json_string(m[0], what, source), json_string(m[1], what, source), i, source));
  }
  for (const auto& s : json_member(j, "special_tokens", V::array, source)) {
    const auto it = index.find(bytes_to_unicode(json_string(s, "a special token", source)));
    TESSERA_CHECK(it != index.end(), "{}: special token {} is not in the vocabulary", source, s.dump());
    parts.specials.push_back(it->second);
  }
  return Tokenizer::from_parts(std::move(parts), source);
}

Tokenizer Tokenizer::from_json(std::string_view json, const std::string& source) {
  return tokenizer_from_own_json(parse_json(json, source), source);
}

void Tokenizer::save(const std::string& path) const { write_file(path, to_json()); }

Tokenizer Tokenizer::load(const std::string& path) {
  const std::string text = read_file(path);
  const nlohmann::json j = parse_json(text, path);
  if (j.is_object() && j.contains("format")) return tokenizer_from_own_json(j, path);
  if (j.is_object() && j.contains("model")) return tokenizer_from_hf_json(j, path);
  TESSERA_FAIL("{}: neither a Tessera tokenizer (no \"format\") nor a Hugging Face tokenizer.json (no \"model\")",
               path);
}

}  // namespace tessera::datasets
