#pragma once
// Per-document measures behind prepare's quality filters (docs/data.md): length in characters,
// the share of characters that are not text, and the normalised form that exact deduplication
// hashes.
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::datasets {

// Characters: UTF-8 code points, each invalid byte counting as one.
uint64_t char_count(std::string_view text);

// The share of characters that are not text, in [0, 1] (0 for empty text). Text: letters and
// digits, whitespace, the punctuation . , ; : ! ? ' " ( ) - and every valid non-ASCII character.
// Not text: other ASCII symbols (# $ % & * + / < = > @ [ \ ] ^ _ ` { | } ~), control characters
// and invalid UTF-8 bytes.
double non_text_share(std::string_view text);

// ASCII letters lowercased, runs of whitespace made one space, no leading or trailing space:
// "Hello,\n  World " and "hello, world" normalise alike.
std::string normalise_for_dedup(std::string_view text);

}  // namespace tessera::datasets
