#include "datasets/pii.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace tessera::datasets {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Part of a word: ASCII letters and digits, '_', and every byte of a non-ASCII character.
bool is_word(char c) { return is_alnum(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool is_local(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }

char at(std::string_view s, size_t i) { return i < s.size() ? s[i] : '\0'; }

// Digits from s[p] on, at most `limit` + 1 of them (enough to tell "too long"); p moves past them.
size_t digit_run(std::string_view s, size_t& p, size_t limit) {
  const size_t start = p;
  while (p < s.size() && p - start <= limit && is_digit(s[p])) ++p;
  return p - start;
}

// Nothing that continues a number or a word right after a match ending before s[p]: no word
// character and no '.' followed by a digit (1.2.3.4.5); with `strict`, also no '-', ':' or '/'
// followed by a digit (2024-01-15-..., 10:30, 15/01).
bool ends_cleanly(std::string_view s, size_t p, bool strict = true) {
  const char c = at(s, p);
  if (is_word(c)) return false;
  if (!is_digit(at(s, p + 1))) return true;
  return !(c == '.' || (strict && (c == '-' || c == ':' || c == '/')));
}

// Digit groups from s[i] on, as a number of digits per group and where each group ends, with the
// separator after each; at most kMaxGroups groups, stopping before the group that would make the
// digits exceed `max_digits`. `separators` lists what may join two groups.
constexpr size_t kMaxGroups = 16;
struct Groups {
  size_t n = 0;
  size_t digits[kMaxGroups] = {}, end[kMaxGroups] = {};
  char sep[kMaxGroups] = {};  // sep[k]: what joins group k to group k + 1
  size_t paren = SIZE_MAX;    // the index of a parenthesised group (phones)
};

// local@domain.tld: a local part of 1-64 characters [A-Za-z0-9._%+-] that neither starts nor ends
// with '.', a domain of at least two labels [A-Za-z0-9-] (not starting or ending with '-', at
// most 63 each, 253 in all), the last one at least two letters.
size_t match_email(std::string_view s, size_t i) {
  size_t p = i;
  while (p < s.size() && p - i <= 64 && is_local(s[p])) ++p;
  if (p == i || p - i > 64 || at(s, p) != '@' || s[i] == '.' || s[p - 1] == '.') return 0;
  const size_t domain = ++p;
  size_t labels = 0, last = p;
  while (true) {
    last = p;
    while (p < s.size() && p - last <= 63 && (is_alnum(s[p]) || s[p] == '-')) ++p;
    if (p == last || p - last > 63 || s[last] == '-' || s[p - 1] == '-') return 0;
    ++labels;
    if (at(s, p) == '.' && is_alnum(at(s, p + 1)) && p - domain < 253) {
      ++p;
      continue;
    }
    break;
  }
  if (labels < 2 || p - domain > 253 || p - last < 2) return 0;
  if (!std::all_of(s.begin() + static_cast<std::ptrdiff_t>(last), s.begin() + static_cast<std::ptrdiff_t>(p), is_alpha)) {
    return 0;
  }
  return is_word(at(s, p)) || at(s, p) == '@' ? 0 : p - i;
}

// d.d.d.d with four numbers 0-255 of 1-3 digits; `check_end` also requires a clean end (a port,
// a prefix length or a dash may follow: 10.0.0.1:8080, 10.0.0.0/8).
size_t match_ipv4(std::string_view s, size_t i, bool check_end = true) {
  size_t p = i;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (at(s, p) != '.') return 0;
      ++p;
    }
    const size_t start = p;
    const size_t len = digit_run(s, p, 3);
    if (len == 0 || len > 3) return 0;
    if (std::stoi(std::string(s.substr(start, len))) > 255) return 0;
  }
  return !check_end || ends_cleanly(s, p, false) ? p - i : 0;
}

// Hexadecimal groups of 1-4 digits separated by ':': eight of them, or fewer with one '::'
// standing for the missing ones (fe80::1, ::1, 2001:db8::); the last two groups may be an IPv4
// address (::ffff:192.0.2.1). At least one decimal digit, so that words like "a::b" or "cafe::"
// stay, and eight groups exactly without '::', so that times (10:30:00) stay.
size_t match_ipv6(std::string_view s, size_t i) {
  size_t p = i, groups = 0;
  bool compressed = false, digit = false;
  if (s.substr(i, 2) == "::") {
    compressed = true;
    p += 2;
  }
  while (groups < 8) {
    size_t q = p;
    while (q < s.size() && q - p <= 4 && is_hex(s[q])) ++q;
    const size_t run = q - p;
    if (run == 0) {
      if (compressed && p >= 2 && s.substr(p - 2, 2) == "::") break;  // ends in '::'
      return 0;
    }
    if (run > 4) return 0;
    if (at(s, q) == '.' && is_digit(at(s, q + 1))) {  // an IPv4 tail: two groups, and the address ends
      const size_t v4 = match_ipv4(s, p, false);
      if (v4 == 0) return 0;
      groups += 2;
      p += v4;
      digit = true;
      break;
    }
    if (is_word(at(s, q))) return 0;
    digit = digit || std::any_of(s.begin() + static_cast<std::ptrdiff_t>(p), s.begin() + static_cast<std::ptrdiff_t>(q), is_digit);
    ++groups;
    p = q;
    if (s.substr(p, 2) == "::") {
      if (compressed) return 0;
      compressed = true;
      p += 2;
    } else if (at(s, p) == ':' && is_hex(at(s, p + 1))) {
      ++p;
    } else {
      break;
    }
  }
  if (!digit || (compressed ? groups > 7 : groups != 8)) return 0;
  return ends_cleanly(s, p, false) ? p - i : 0;
}

// Groups of digits from s[p] on, joined by single characters of `separators`: at most kMaxGroups,
// stopping before the group that would make the digits exceed `max_digits`. With `paren_before`
// > 0, one of the first `paren_before` groups may be 2-4 digits in parentheses, followed by a
// separator or directly by the next group: (555) 123-4567, (555)123-4567.
Groups digit_groups(std::string_view s, size_t p, std::string_view separators, size_t max_digits,
                    size_t paren_before = 0) {
  Groups g;
  size_t total = 0;
  auto may_open = [&] { return g.paren == SIZE_MAX && g.n < paren_before; };
  while (g.n < kMaxGroups) {
    const bool open = at(s, p) == '(' && may_open();
    size_t len = 0;
    if (open) {
      ++p;
      len = digit_run(s, p, 4);
      if (len < 2 || len > 4 || at(s, p) != ')') break;
      ++p;
      g.paren = g.n;
    } else {
      len = digit_run(s, p, max_digits);
    }
    if (len == 0 || (total += len) > max_digits) break;
    g.digits[g.n] = len;
    g.end[g.n++] = p;
    const char c = at(s, p);
    const bool next = is_digit(at(s, p + 1)) || (at(s, p + 1) == '(' && may_open());
    if (c != '\0' && separators.find(c) != std::string_view::npos && next) {
      g.sep[g.n - 1] = c;
      ++p;
    } else if (open && is_digit(c)) {
      g.sep[g.n - 1] = ')';
    } else {
      break;
    }
  }
  return g;
}

// True when groups [from, k) are joined by one separator throughout.
bool one_separator(const Groups& g, size_t from, size_t k) {
  for (size_t j = from + 1; j + 1 < k; ++j) {
    if (g.sep[j] != g.sep[from]) return false;
  }
  return true;
}

// True when every digit in `span` is the same one (0000 0000 0000 0000, 000-000-0000).
bool one_digit_repeated(std::string_view span) {
  char first = 0;
  for (char c : span) {
    if (!is_digit(c)) continue;
    if (first == 0) first = c;
    if (c != first) return false;
  }
  return true;
}

bool luhn_valid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// 13-19 digits, in groups joined by single spaces or by single dashes (one kind throughout),
// passing the Luhn check and not all one digit (0000 0000 0000 0000 passes Luhn). The longest
// such run of groups from s[i] wins.
size_t match_card(std::string_view s, size_t i) {
  const Groups g = digit_groups(s, i, " -", 19);
  std::string digits;
  size_t prefix[kMaxGroups];  // prefix[k]: digits in groups 0..k
  for (size_t k = 0; k < g.n; ++k) {
    digits.append(s.substr(g.end[k] - g.digits[k], g.digits[k]));
    prefix[k] = digits.size();
  }
  for (size_t k = g.n; k-- > 0;) {
    const std::string_view d = std::string_view(digits).substr(0, prefix[k]);
    if (d.size() < 13 || !one_separator(g, 0, k + 1) || !ends_cleanly(s, g.end[k]) || !luhn_valid(d)) continue;
    if (!one_digit_repeated(d)) return g.end[k] - i;
  }
  return 0;
}

// Whether the first k groups of a phone candidate are a phone number (rules at match_phone).
bool phone_shape(std::string_view s, const Groups& g, size_t k, bool plus) {
  size_t digits = 0;
  for (size_t j = 0; j < k; ++j) {
    if (j > 0 && g.digits[j] < 2 && !(plus && j == 1)) return false;
    digits += g.digits[j];
  }
  const bool paren = g.paren < k;
  // The groups after the prefix (the country code, the area code) share one separator.
  if (!one_separator(g, paren ? g.paren + 1 : plus ? 1 : 0, k)) return false;
  if (plus) return digits >= 8;
  if (paren) return digits >= 7 && k >= 2;
  if (k == 2) return g.digits[0] == 3 && g.digits[1] == 4 && g.sep[0] == '-';
  if (k < 3 || digits < 9) return false;
  const bool thousands = g.digits[0] <= 3 && std::all_of(g.digits + 1, g.digits + k, [](size_t n) { return n == 3; });
  const bool trunk = s[g.end[0] - g.digits[0]] == '0';
  const bool nanp = k == 3 && g.digits[0] == 3 && g.digits[1] == 3 && g.digits[2] == 4;
  return !thousands && (g.sep[0] != ' ' || trunk || nanp);
}

// A phone number: digit groups joined by single spaces, dashes or dots, optionally starting with
// '+' and a country code, and with at most one parenthesised area code of 2-4 digits. Accepted:
//   +CC ...       8-15 digits in all, any grouping (+44 20 7946 0958, +14155552671)
//   (AREA) ...    7-15 digits ((555) 123-4567)
//   3+ groups     9-15 digits (555-123-4567, 555.123.4567); joined by spaces only when the first
//                 group starts with 0 (020 7946 0958, 06 12 34 56 78) or the shape is 3-3-4
//   2 groups      exactly 3-4 joined by '-' (555-1234)
// Rejected, so that ordinary numbers stay: one group without '+', a group of one digit after the
// first (ISBNs: 978-3-16-148410-0), mixed separators outside the prefix (2024-01-15 1030),
// thousands grouping (1 234 567, 12.345.678: every group after the first has three digits), lists
// of numbers (10 20 30 40 50) and one digit repeated (000 000 0000). The longest run of groups
// from s[i] that is a phone wins.
size_t match_phone(std::string_view s, size_t i) {
  const bool plus = at(s, i) == '+';
  const size_t start = plus ? i + 1 : i;
  const Groups g = digit_groups(s, start, " -.", 15, plus ? 2 : 1);
  for (size_t k = g.n; k > 0; --k) {
    if (!phone_shape(s, g, k, plus) || !ends_cleanly(s, g.end[k - 1])) continue;
    if (!one_digit_repeated(s.substr(i, g.end[k - 1] - i))) return g.end[k - 1] - i;
  }
  return 0;
}

// True when the word before s[i] (across at most two spaces) names a version or a section:
// "revision 1.17.2.7" and "Section 2.4.3.5" are not addresses. Looks back at most 12 bytes.
bool follows_version_word(std::string_view s, size_t i) {
  size_t p = i;
  for (int k = 0; k < 2 && p > 0 && s[p - 1] == ' '; ++k) --p;
  size_t start = p;
  while (start > 0 && p - start < 10 && is_alpha(s[start - 1])) --start;
  if (start > 0 && is_word(s[start - 1])) return false;
  std::string word(s.substr(start, p - start));
  for (char& c : word) c = static_cast<char>(c | 0x20);
  for (std::string_view w : {"v", "ver", "version", "rev", "revision", "release", "section", "chapter"}) {
    if (word == w) return true;
  }
  return false;
}

struct Match {
  PiiKind kind = PiiKind::Email;
  size_t length = 0;
};

// The match starting at s[i], if any. E-mail addresses start after a character that cannot be in
// one; numbers and addresses start after one that cannot continue a word or a number.
Match match_at(std::string_view s, size_t i) {
  const char c = s[i], prev = i > 0 ? s[i - 1] : ' ';
  if (is_local(c) && !is_local(prev) && prev != '@' && !is_word(prev)) {
    if (const size_t n = match_email(s, i)) return {PiiKind::Email, n};
  }
  if (is_word(prev) || prev == '.' || prev == '-' || prev == ':' || prev == '+') return {};
  if (is_digit(c)) {
    if (const size_t n = match_ipv4(s, i); n > 0 && !follows_version_word(s, i)) return {PiiKind::Ipv4, n};
  }
  if (is_hex(c) || c == ':') {
    if (const size_t n = match_ipv6(s, i)) return {PiiKind::Ipv6, n};
  }
  if (is_digit(c)) {
    if (const size_t n = match_card(s, i)) return {PiiKind::Card, n};
  }
  if (is_digit(c) || c == '+' || c == '(') {
    if (const size_t n = match_phone(s, i)) return {PiiKind::Phone, n};
  }
  return {};
}

}  // namespace

std::string_view pii_name(PiiKind kind) {
  static constexpr std::string_view names[kPiiKinds] = {"email", "phone", "ipv4", "ipv6", "card"};
  return names[static_cast<size_t>(kind)];
}

std::string_view pii_placeholder(PiiKind kind) {
  static constexpr std::string_view placeholders[kPiiKinds] = {"<EMAIL>", "<PHONE>", "<IP>", "<IP>", "<CARD>"};
  return placeholders[static_cast<size_t>(kind)];
}

PiiCounts& PiiCounts::operator+=(const PiiCounts& o) {
  for (size_t k = 0; k < kPiiKinds; ++k) n[k] += o.n[k];
  return *this;
}

uint64_t PiiCounts::total() const { return std::accumulate(n.begin(), n.end(), uint64_t{0}); }

std::string mask_pii(std::string_view text, PiiCounts& counts) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Match m = match_at(text, i);
    if (m.length == 0) {
      out.push_back(text[i++]);
      continue;
    }
    out.append(pii_placeholder(m.kind));
    ++counts[m.kind];
    i += m.length;
  }
  return out;
}

}  // namespace tessera::datasets
