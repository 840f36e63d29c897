#pragma once
// PII masking for `tessera prepare --mask-pii`: e-mail addresses, phone numbers, IPv4 and IPv6
// addresses and payment card numbers are replaced by typed placeholders. Rules and examples of
// what is and is not masked are in docs/data.md.
//
// A hand-written scanner, one pass from left to right: at each position where a match may start,
// each matcher looks ahead a bounded number of bytes (at most 318, for an e-mail address), so the
// time is linear in the text's length whatever it holds. No regular expressions.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::datasets {

enum class PiiKind { Email, Phone, Ipv4, Ipv6, Card };
inline constexpr size_t kPiiKinds = 5;

std::string_view pii_name(PiiKind kind);         // "email", "phone", "ipv4", "ipv6", "card"
std::string_view pii_placeholder(PiiKind kind);  // "<EMAIL>", "<PHONE>", "<IP>", "<IP>", "<CARD>"

// Matches replaced, per kind (indexed by PiiKind).
struct PiiCounts {
  std::array<uint64_t, kPiiKinds> n{};
  uint64_t& operator[](PiiKind k) { return n[static_cast<size_t>(k)]; }
  uint64_t operator[](PiiKind k) const { return n[static_cast<size_t>(k)]; }
  PiiCounts& operator+=(const PiiCounts& o);
  uint64_t total() const;
};

// `text` with every match replaced by its kind's placeholder; `counts` gains one per match.
std::string mask_pii(std::string_view text, PiiCounts& counts);

}  // namespace tessera::datasets
