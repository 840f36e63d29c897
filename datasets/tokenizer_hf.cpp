// Hugging Face tokenizer.json for byte-level BPE models (GPT-2, RoBERTa, GPT-NeoX style):
// model.type "BPE" with model.vocab ({"token": id}, byte-unicode form) and model.merges ("a b"
// strings or ["a", "b"] pairs), a ByteLevel pre-tokenizer, and added_tokens. Settings that would
// change the encoding in ways Tessera does not implement (a normalizer, another pre-tokenizer, a
// prefix space, subword prefixes/suffixes, ignore_merges, dropout) are refused with an error rather
// than silently encoded differently. All added tokens become special tokens.
#include <map>
#include <string>
#include <unordered_set>

#include "core/error.h"
#include "datasets/byte_unicode.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_formats.h"
#include "datasets/tokenizer_io.h"

namespace tessera::datasets {
namespace {

using V = nlohmann::json::value_t;

bool is_null_or(const nlohmann::json& j, const char* key, const nlohmann::json& allowed) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() || *it == allowed;
}

void check_pre_tokenizer(const nlohmann::json& j, const std::string& source) {
  const auto it = j.find("pre_tokenizer");
  TESSERA_CHECK(it != j.end() && it->is_object(), "{}: a byte-level BPE tokenizer.json needs a ByteLevel "
                "\"pre_tokenizer\"", source);
  const auto& pre = *it;
  TESSERA_CHECK(pre.value("type", "") == "ByteLevel", "{}: pre-tokenizer {} is not supported (only ByteLevel)",
                source, pre.dump());
  TESSERA_CHECK(is_null_or(pre, "add_prefix_space", false),
                "{}: the ByteLevel pre-tokenizer's add_prefix_space = true is not supported", source);
  TESSERA_CHECK(is_null_or(pre, "use_regex", true),
                "{}: the ByteLevel pre-tokenizer's use_regex = false is not supported", source);
}

void check_model_options(const nlohmann::json& model, const std::string& source) {
  TESSERA_CHECK(is_null_or(model, "type", "BPE"), "{}: model type {} is not supported (only BPE)", source,
                model.value("type", nlohmann::json()).dump());
  TESSERA_CHECK(is_null_or(model, "dropout", 0.0), "{}: BPE dropout is not supported", source);
  TESSERA_CHECK(is_null_or(model, "continuing_subword_prefix", ""),
                "{}: a continuing_subword_prefix is not supported", source);
  TESSERA_CHECK(is_null_or(model, "end_of_word_suffix", ""), "{}: an end_of_word_suffix is not supported", source);
  TESSERA_CHECK(is_null_or(model, "ignore_merges", false), "{}: ignore_merges = true is not supported", source);
}

// The two tokens of merge `rank`: "a b" or ["a", "b"].
std::pair<std::string, std::string> merge_pair(const nlohmann::json& m, size_t rank, const std::string& source) {
  if (m.is_string()) {
    const auto halves = split_merge(m.get_ref<const std::string&>());
    TESSERA_CHECK(halves.has_value(), "{}: merge {} must be \"left right\", not {}", source, rank, m.dump());
    return {std::string(halves->first), std::string(halves->second)};
  }
  TESSERA_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
                "{}: merge {} must be \"left right\" or a pair of strings, not {}", source, rank, m.dump());
  return {m[0].get<std::string>(), m[1].get<std::string>()};
}

}  // namespace

Tokenizer tokenizer_from_hf_json(const nlohmann::json& j, const std::string& source) {
  TESSERA_CHECK(j.is_object(), "{}: a tokenizer.json must be a JSON object", source);
  const auto& model = json_member(j, "model", V::object, source);
  check_model_options(model, source);
  TESSERA_CHECK(!j.contains("normalizer") || j["normalizer"].is_null(), "{}: normalizer {} is not supported",
                source, j["normalizer"].dump());
  check_pre_tokenizer(j, source);

  // Added tokens first: model.vocab may spell them in raw text rather than byte-unicode form.
  std::map<uint64_t, std::string> added;  // id -> raw text
  if (const auto it = j.find("added_tokens"); it != j.end() && !it->is_null()) {
    TESSERA_CHECK(it->is_array(), "{}: \"added_tokens\" must be an array", source);
    for (const auto& t : *it) {
      const auto& id = json_member(t, "id", V::number_unsigned, source);
      const auto& content = json_member(t, "content", V::string, source);
      TESSERA_CHECK(added.emplace(id.get<uint64_t>(), content.get<std::string>()).second,
                    "{}: two added tokens have id {}", source, id.dump());
    }
  }

  BpeParts parts;
  TokenIndex index;
  for (const auto& [token, id] : json_member(model, "vocab", V::object, source).items()) {
    TESSERA_CHECK(id.is_number_unsigned(), "{}: the id of '{}' in model.vocab must be a non-negative integer, not {}",
                  source, token, id.dump());
    const auto a = added.find(id.get<uint64_t>());
    const bool raw = a != added.end() && a->second == token;
    add_vocab_token(raw ? bytes_to_unicode(token) : token, id.get<uint64_t>(), parts.tokens, index, source);
  }
  for (const auto& [id, content] : added) {
    const std::string token = bytes_to_unicode(content);
    if (id < parts.tokens.size() && !parts.tokens[id].empty()) {
      TESSERA_CHECK(parts.tokens[id] == content, "{}: added token {} has id {}, which model.vocab gives to '{}'",
                    source, nlohmann::json(content).dump(), id, bytes_to_unicode(parts.tokens[id]));
    } else {
      add_vocab_token(token, id, parts.tokens, index, source);
    }
    parts.specials.push_back(static_cast<TokenId>(id));
  }
  check_no_gaps(parts.tokens, source);

  const auto& merges = json_member(model, "merges", V::array, source);
  parts.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto [left, right] = merge_pair(merges[i], i, source);
    parts.merges.push_back(merge_ids(index, left, right, i, source));
  }
  return Tokenizer::from_parts(std::move(parts), source);
}

Tokenizer Tokenizer::from_hf_json(std::string_view json, const std::string& source) {
  return tokenizer_from_hf_json(parse_json(json, source), source);
}

std::string Tokenizer::to_hf_json() const {
  using J = nlohmann::ordered_json;
  const BpeParts& p = parts();
  const auto byte_level = [](bool add_prefix_space, bool trim_offsets) {
    return J{{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", trim_offsets},
             {"use_regex", true}};
  };
  std::vector<bool> special(p.tokens.size(), false);
  J added = J::array();
  for (const TokenId id : p.specials) {
    special[id] = true;
    added.push_back(J{{"id", id}, {"content", p.tokens[id]}, {"single_word", false}, {"lstrip", false},
                      {"rstrip", false}, {"normalized", true}, {"special", true}});
  }
  // Special tokens are spelled in raw text in model.vocab too, where Hugging Face looks them up.
  // The object keeps id order; entries are appended to its underlying vector, as a keyed insert
  // into an ordered_json object searches it linearly.
  J vocab = J::object();
  auto& entries = vocab.get_ref<J::object_t&>();
  entries.reserve(p.tokens.size());
  std::unordered_set<std::string> keys;
  for (size_t i = 0; i < p.tokens.size(); ++i) {
    std::string key = special[i] ? p.tokens[i] : bytes_to_unicode(p.tokens[i]);
    TESSERA_CHECK(keys.insert(key).second, "cannot write tokenizer.json: special token '{}' is spelled like an "
                  "ordinary token in byte-unicode form", key);
    entries.emplace_back(std::move(key), i);
  }
  J merges = J::array();
  for (const auto& [a, b] : p.merges) merges.push_back(bytes_to_unicode(p.tokens[a]) + " " + bytes_to_unicode(p.tokens[b]));

  J j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added);
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = byte_level(false, true);
  j["post_processor"] = byte_level(true, false);
  j["decoder"] = byte_level(true, true);
  j["model"] = J{{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", nullptr},
                 {"continuing_subword_prefix", ""},
                 {"end_of_word_suffix", ""},
                 {"fuse_unk", false},
                 {"vocab", std::move(vocab)},
                 {"merges", std::move(merges)}};
  return j.dump(2) + "\n";
}

void Tokenizer::save_hf(const std::string& path) const { write_file(path, to_hf_json()); }

}  // namespace tessera::datasets
