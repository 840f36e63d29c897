#pragma once
// GPT-2's reversible map between bytes and printable unicode characters: bytes that are printable
// Latin-1 characters map to themselves, the other 68 bytes to U+0100..U+0143 in byte order. Byte-level
// BPE vocabularies (encoder.json, tokenizer.json) store their tokens in this form, so every token is
// a printable, whitespace-free string whatever bytes it stands for.
#include <optional>
#include <string>
#include <string_view>

namespace tessera::datasets {

// The UTF-8 form of the character that stands for `byte`.
std::string_view byte_to_unicode(unsigned char byte);

// Raw bytes -> their byte-unicode form (valid UTF-8, one character per byte).
std::string bytes_to_unicode(std::string_view bytes);

// Byte-unicode form -> raw bytes; nullopt if `text` is not valid UTF-8 or holds a character outside
// the map.
std::optional<std::string> unicode_to_bytes(std::string_view text);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace tessera::datasets
