#pragma once
// The byte-level BPE tokenizer in a GGUF file, both ways, as llama.cpp reads it:
//   tokenizer.ggml.model       "gpt2" (byte-level BPE)
//   tokenizer.ggml.pre         "gpt-2" (GPT-2's pre-tokenisation regex)
//   tokenizer.ggml.tokens      every id's token: ordinary tokens in GPT-2's byte-unicode form,
//                              special (control) tokens as their text
//   tokenizer.ggml.token_type  1 normal, 3 control, 4 user-defined (read as special), 5 unused
//   tokenizer.ggml.merges      "left right" in rank order, byte-unicode form
//   tokenizer.ggml.{bos,eos}_token_id, tokenizer.ggml.add_bos_token (false)
// A model vocabulary larger than the tokenizer's is padded with unused "[PAD<i>]" tokens, which
// reading drops again, so a tokenizer comes back exactly (the same hash).
#include <cstdint>
#include <string>

#include "datasets/tokenizer.h"
#include "interchange/gguf_reader.h"
#include "interchange/gguf_writer.h"

namespace tessera::interchange {

// Adds the tokenizer's keys, padded to `vocab_size` ids; a larger tokenizer throws.
void write_gguf_tokenizer(GgufWriter& w, const datasets::Tokenizer& tokenizer, int64_t vocab_size);

// The tokenizer of a file's keys. Anything Tessera would tokenize differently from llama.cpp (another
// tokenizer model or pre-tokeniser, an added BOS, SentencePiece byte tokens) throws tessera::Error
// naming the key and `source`.
datasets::Tokenizer read_gguf_tokenizer(const GgufFile& file, const std::string& source);

}  // namespace tessera::interchange
