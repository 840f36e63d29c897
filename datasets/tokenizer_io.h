#pragma once
// File and JSON plumbing shared by the tokenizer formats: every failure becomes a tessera::Error
// that names the file and the problem.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

std::string read_file(const std::string& path);
// Writes through a temporary file and a rename, so a reader never sees half a file.
void write_file(const std::string& path, std::string_view contents);

nlohmann::json parse_json(std::string_view text, const std::string& source);

// `j[key]`, which must exist and have the given type; errors name `source` and `key`.
const nlohmann::json& json_member(const nlohmann::json& j, const char* key, nlohmann::json::value_t type,
                                  const std::string& source);
// `j` as a string; `what` names it in errors ("merge 12", "vocab entry 3").
const std::string& json_string(const nlohmann::json& j, const std::string& what, const std::string& source);

// Token (byte-unicode form, as vocabularies and merge lists spell it) -> id.
using TokenIndex = std::unordered_map<std::string, TokenId>;

// Adds `token` (byte-unicode form) as id `id` to `tokens` (raw bytes by id; "" marks a free id) and
// to `index`; an error if the id or the token is taken or the token is not in byte-unicode form.
void add_vocab_token(const std::string& token, uint64_t id, std::vector<std::string>& tokens, TokenIndex& index,
                     const std::string& source);
// Every id below tokens.size() must have its token.
void check_no_gaps(const std::vector<std::string>& tokens, const std::string& source);
// "left right" -> its two halves; nullopt unless there is exactly one space with text on both sides.
std::optional<std::pair<std::string_view, std::string_view>> split_merge(std::string_view merge);
// The ids of merge number `rank`, `left right`; an error names a token missing from the vocabulary.
std::pair<TokenId, TokenId> merge_ids(const TokenIndex& index, const std::string& left, const std::string& right,
                                      size_t rank, const std::string& source);

}  // namespace tessera::datasets
