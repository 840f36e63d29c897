#pragma once
// Byte-level BPE tokenizer (GPT-2 style): text is split by GPT-2's pre-tokenisation regex, each
// piece's bytes are mapped to printable unicode characters, and ranked merges are applied.
// Loads its own JSON format, GPT-2's encoder.json + vocab.bpe, and Hugging Face tokenizer.json
// (BPE models). Encoding is identical to GPT-2's reference encoder.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::datasets {

using TokenId = uint32_t;

class WordCounts;  // pre-tokenised word frequencies: the input of BPE training (tokenizer_train.h)

// What every format stores: the tokens, the merges in rank order, the special tokens.
struct BpeParts {
  std::vector<std::string> tokens;                  // raw bytes of token id i (not the byte-unicode form)
  std::vector<std::pair<TokenId, TokenId>> merges;  // rank order; merging a and b gives the token a+b
  std::vector<TokenId> specials;                    // ids of the special tokens ("<|endoftext|>", ...)
};

class Tokenizer {
 public:
  // Tessera's own JSON or a Hugging Face tokenizer.json, recognised by content.
  static Tokenizer load(const std::string& path);
  static Tokenizer load_gpt2(const std::string& encoder_json, const std::string& vocab_bpe);
  void save(const std::string& path) const;  // Tessera's own JSON
  // The same JSON as a string, and back (`source` names where it came from in errors).
  std::string to_json() const;
  static Tokenizer from_json(std::string_view json, const std::string& source);

  // Hugging Face tokenizer.json (BPE model, ByteLevel pre-tokenizer and decoder), both ways.
  void save_hf(const std::string& path) const;
  std::string to_hf_json() const;
  static Tokenizer from_hf_json(std::string_view json, const std::string& source);

  // Checks the parts (every byte has a token, tokens are unique, merged tokens exist, ...) and
  // builds the tokenizer; errors name `source`.
  static Tokenizer from_parts(BpeParts parts, const std::string& source);

  // Ordinary text: special tokens in the text are encoded as ordinary text, like GPT-2's encoder.
  std::vector<TokenId> encode(std::string_view text) const;
  // Like encode(), but each occurrence of a special token's text becomes that special token (the
  // leftmost match first, the longest of those starting there), as Hugging Face tokenizers do.
  std::vector<TokenId> encode_with_special(std::string_view text) const;
  // Bytes (possibly invalid UTF-8) that the ids stand for; unknown ids are an error.
  std::string decode(std::span<const TokenId> ids) const;

  size_t vocab_size() const;
  TokenId eot_id() const;  // "<|endoftext|>"; an error if the vocabulary has none
  std::string hash() const;  // SHA-256 of the canonical JSON: names this tokenizer in manifests and checkpoints

  const BpeParts& parts() const;
  std::string_view token_bytes(TokenId id) const;  // an error for an unknown id
  std::optional<TokenId> special_id(std::string_view text) const;  // the special token spelled `text`

 private:
  struct Impl;  // the parts, lookup tables and the thread-safe cache of encoded pieces (tokenizer.cpp)
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  // Shared by copies: everything but the cache is immutable once built, and the cache locks itself.
  std::shared_ptr<const Impl> impl_;
};

// Trains a byte-level BPE tokenizer of `vocab_size` tokens (256 byte tokens + merges + specials).
Tokenizer train_bpe(const WordCounts& counts, size_t vocab_size,
                    const std::vector<std::string>& special_tokens = {"<|endoftext|>"});

}  // namespace tessera::datasets
