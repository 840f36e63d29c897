// The tokenizer proper: building it from its parts (with the checks every format shares),
// encoding, decoding. File formats live in tokenizer_json.cpp, tokenizer_gpt2.cpp, tokenizer_hf.cpp.
#include "datasets/tokenizer.h"

#include <array>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/byte_unicode.h"
#include "datasets/pretokenize.h"
#include "datasets/tokenizer_cache.h"
#include "datasets/tokenizer_merge.h"

namespace tessera::datasets {

struct Tokenizer::Impl {
  BpeParts parts;
  std::array<TokenId, 256> byte_ids{};                      // the single-byte token of each byte
  MergeTable merges;
  std::vector<std::pair<std::string_view, TokenId>> specials;  // text -> id, for encode_with_special
  PieceCache cache;
};

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_parts(BpeParts parts, const std::string& source) {
  auto impl = std::make_shared<Impl>();
  const auto& tokens = parts.tokens;
  TESSERA_CHECK(!tokens.empty(), "{}: the vocabulary is empty", source);
  TESSERA_CHECK(tokens.size() <= std::numeric_limits<TokenId>::max(), "{}: too many tokens ({})", source,
                tokens.size());

  std::unordered_map<std::string_view, TokenId> id_of;
  id_of.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    TESSERA_CHECK(!tokens[i].empty(), "{}: token {} is empty", source, i);
    const auto [it, fresh] = id_of.emplace(tokens[i], static_cast<TokenId>(i));
    TESSERA_CHECK(fresh, "{}: token '{}' appears twice (ids {} and {})", source, bytes_to_unicode(tokens[i]),
                  it->second, i);
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = id_of.find(std::string_view(std::string(1, static_cast<char>(b))));
    TESSERA_CHECK(it != id_of.end(), "{}: the vocabulary has no token for byte 0x{:02x} ('{}')", source, b,
                  byte_to_unicode(static_cast<unsigned char>(b)));
    impl->byte_ids[static_cast<size_t>(b)] = it->second;
  }

  std::unordered_set<TokenId> special_set;
  for (const TokenId id : parts.specials) {
    TESSERA_CHECK(id < tokens.size(), "{}: special token id {} is outside the vocabulary of {} tokens", source,
                  id, tokens.size());
    TESSERA_CHECK(special_set.insert(id).second, "{}: special token id {} is listed twice", source, id);
    TESSERA_CHECK(tokens[id].size() > 1, "{}: special token id {} is a single byte", source, id);
    TESSERA_CHECK(is_valid_utf8(tokens[id]), "{}: special token id {} is not valid UTF-8", source, id);
  }

  for (size_t rank = 0; rank < parts.merges.size(); ++rank) {
    const auto [a, b] = parts.merges[rank];
    TESSERA_CHECK(a < tokens.size() && b < tokens.size(), "{}: merge {} refers to token id {}, outside the vocabulary",
                  source, rank, a < tokens.size() ? b : a);
    TESSERA_CHECK(!special_set.contains(a) && !special_set.contains(b), "{}: merge {} ('{} {}') uses a special token",
                  source, rank, bytes_to_unicode(tokens[a]), bytes_to_unicode(tokens[b]));
    const auto it = id_of.find(tokens[a] + tokens[b]);
    TESSERA_CHECK(it != id_of.end() && !special_set.contains(it->second),
                  "{}: merge {} ('{} {}') makes '{}', which is not an ordinary token of the vocabulary", source,
                  rank, bytes_to_unicode(tokens[a]), bytes_to_unicode(tokens[b]),
                  bytes_to_unicode(tokens[a] + tokens[b]));
    TESSERA_CHECK(impl->merges.add(a, b, Merge{static_cast<uint32_t>(rank), it->second}),
                  "{}: merge {} ('{} {}') is listed twice", source, rank, bytes_to_unicode(tokens[a]),
                  bytes_to_unicode(tokens[b]));
  }

  impl->parts = std::move(parts);
  for (const TokenId id : impl->parts.specials) impl->specials.emplace_back(impl->parts.tokens[id], id);
  return Tokenizer(std::move(impl));
}

std::vector<TokenId> Tokenizer::encode(std::string_view text) const {
  constexpr size_t kBatch = 256;
  const Impl& impl = *impl_;
  const auto encode_piece = [&impl](std::string_view piece, std::vector<TokenId>& ids) {
    for (const char c : piece) ids.push_back(impl.byte_ids[static_cast<unsigned char>(c)]);
    apply_merges(impl.merges, ids);
  };
  std::vector<TokenId> out;
  out.reserve(text.size() / 3);
  std::vector<std::string_view> batch;
  batch.reserve(kBatch);
  PreTokenizer::gpt2().split(text, [&](std::string_view piece) {
    batch.push_back(piece);
    if (batch.size() < kBatch) return;
    impl.cache.encode(batch, out, encode_piece);
    batch.clear();
  });
  impl.cache.encode(batch, out, encode_piece);
  return out;
}

std::vector<TokenId> Tokenizer::encode_with_special(std::string_view text) const {
  std::vector<TokenId> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best_at = std::string_view::npos, best_len = 0;
    TokenId best_id = 0;
    for (const auto& [special, id] : impl_->specials) {
      const size_t at = text.find(special, pos);
      if (at < best_at || (at == best_at && at != std::string_view::npos && special.size() > best_len)) {
        best_at = at;
        best_len = special.size();
        best_id = id;
      }
    }
    const auto ordinary = encode(text.substr(pos, best_at == std::string_view::npos ? best_at : best_at - pos));
    out.insert(out.end(), ordinary.begin(), ordinary.end());
    if (best_at == std::string_view::npos) break;
    out.push_back(best_id);
    pos = best_at + best_len;
  }
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  std::string out;
  for (const TokenId id : ids) out += token_bytes(id);
  return out;
}

std::string_view Tokenizer::token_bytes(TokenId id) const {
  const auto& tokens = impl_->parts.tokens;
  TESSERA_CHECK(id < tokens.size(), "unknown token id {} (the vocabulary has {} tokens)", id, tokens.size());
  return tokens[id];
}

size_t Tokenizer::vocab_size() const { return impl_->parts.tokens.size(); }

const BpeParts& Tokenizer::parts() const { return impl_->parts; }

std::optional<TokenId> Tokenizer::special_id(std::string_view text) const {
  for (const auto& [special, id] : impl_->specials)
    if (special == text) return id;
  return std::nullopt;
}

TokenId Tokenizer::eot_id() const {
  const auto id = special_id("<|endoftext|>");
  TESSERA_CHECK(id.has_value(), "this tokenizer has no special token \"<|endoftext|>\"");
  return *id;
}

std::string Tokenizer::hash() const { return sha256_hex(to_json()); }

}  // namespace tessera::datasets
