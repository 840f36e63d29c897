#include "datasets/tokenizer_io.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "datasets/byte_unicode.h"

namespace tessera::datasets {
namespace {

const char* type_name(nlohmann::json::value_t type) {
  switch (type) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::null: return "null";
    default: return "a JSON value";
  }
}

bool has_type(const nlohmann::json& j, nlohmann::json::value_t type) {
  if (type == nlohmann::json::value_t::number_unsigned) return j.is_number_unsigned();
  if (type == nlohmann::json::value_t::number_integer) return j.is_number_integer();
  return j.type() == type;
}

}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  TESSERA_CHECK(!std::filesystem::is_directory(path, ec), "cannot read {}: it is a directory", path);
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  TESSERA_CHECK(!in.bad(), "cannot read {}: {}", path, std::strerror(errno));
  return std::move(ss).str();
}

void write_file(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TESSERA_CHECK(out.good(), "cannot create {}: {}", tmp, std::strerror(errno));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    TESSERA_CHECK(out.good(), "cannot write {}: {}", tmp, std::strerror(errno));
  }
  TESSERA_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename {} to {}: {}", tmp, path,
                std::strerror(errno));
}

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    TESSERA_FAIL("{}: not valid JSON: {}", source, e.what());
  }
}

const nlohmann::json& json_member(const nlohmann::json& j, const char* key, nlohmann::json::value_t type,
                                  const std::string& source) {
  TESSERA_CHECK(j.is_object(), "{}: expected a JSON object holding \"{}\"", source, key);
  const auto it = j.find(key);
  TESSERA_CHECK(it != j.end(), "{}: missing \"{}\"", source, key);
  TESSERA_CHECK(has_type(*it, type), "{}: \"{}\" must be {}, not {}", source, key, type_name(type),
                type_name(it->type()));
  return *it;
}

const std::string& json_string(const nlohmann::json& j, const std::string& what, const std::string& source) {
  TESSERA_CHECK(j.is_string(), "{}: {} must be a string, not {}", source, what, type_name(j.type()));
  return j.get_ref<const std::string&>();
}

void add_vocab_token(const std::string& token, uint64_t id, std::vector<std::string>& tokens, TokenIndex& index,
                     const std::string& source) {
  auto bytes = unicode_to_bytes(token);
  TESSERA_CHECK(bytes.has_value() && !bytes->empty(),
                "{}: token '{}' (id {}) is not in GPT-2's byte-unicode form", source, token, id);
  TESSERA_CHECK(id < (size_t{1} << 31), "{}: token '{}' has an impossible id {}", source, token, id);
  if (id >= tokens.size()) tokens.resize(id + 1);
  TESSERA_CHECK(tokens[id].empty(), "{}: id {} is given to two tokens ('{}' and '{}')", source, id,
                bytes_to_unicode(tokens[id]), token);
  const auto [it, fresh] = index.emplace(token, static_cast<TokenId>(id));
  TESSERA_CHECK(fresh, "{}: token '{}' appears twice (ids {} and {})", source, token, it->second, id);
  tokens[id] = std::move(*bytes);
}

void check_no_gaps(const std::vector<std::string>& tokens, const std::string& source) {
  for (size_t i = 0; i < tokens.size(); ++i)
    TESSERA_CHECK(!tokens[i].empty(), "{}: no token has id {} (ids must run from 0 to {} without gaps)", source, i,
                  tokens.size() - 1);
}

std::optional<std::pair<std::string_view, std::string_view>> split_merge(std::string_view merge) {
  const size_t space = merge.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= merge.size() ||
      merge.find(' ', space + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{merge.substr(0, space), merge.substr(space + 1)};
}

std::pair<TokenId, TokenId> merge_ids(const TokenIndex& index, const std::string& left, const std::string& right,
                                      size_t rank, const std::string& source) {
  const auto l = index.find(left), r = index.find(right);
  TESSERA_CHECK(l != index.end(), "{}: merge {} ('{} {}') refers to '{}', which is not in the vocabulary", source,
                rank, left, right, left);
  TESSERA_CHECK(r != index.end(), "{}: merge {} ('{} {}') refers to '{}', which is not in the vocabulary", source,
                rank, left, right, right);
  return {l->second, r->second};
}

}  // namespace tessera::datasets
