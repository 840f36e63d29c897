// PII masking: a table of texts and what they become, for every kind, positive and negative; the
// counts per kind; and linear time on long runs of near-misses.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/pii.h"

using namespace tessera::datasets;

namespace {

struct Case {
  std::string text, masked;
};

// Masks every case and checks the result; the counts of `kind` must equal the number of
// placeholders of that kind in the expected text (<IP> counts either IP kind).
void check_table(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    PiiCounts counts;
    EXPECT_EQ(mask_pii(c.text, counts), c.masked) << "input: " << c.text;
  }
}

uint64_t occurrences(const std::string& text, const std::string& what) {
  uint64_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Pii, Emails) {
  check_table({
      {"write to jane.doe@example.com today", "write to <EMAIL> today"},
      {"<a.b+tag@mail.example.co.uk>", "<<EMAIL>>"},
      {"ops_team-1@sub-domain.example.org.", "<EMAIL>."},
      {"Mail: X%Y@host.io, or", "Mail: <EMAIL>, or"},
      // Not addresses: no dot in the domain, a one-letter or numeric TLD, dots at the edges of the
      // local part, a handle, a domain label starting with '-', and an e-mail-like version pin.
      {"root@localhost", "root@localhost"},
      {"a@b.c", "a@b.c"},
      {"user@10.0.0.1", "user@<IP>"},
      {".dot@example.com", ".dot@example.com"},
      {"dot.@example.com", "dot.@example.com"},
      {"follow @tessera on", "follow @tessera on"},
      {"x@-bad.com", "x@-bad.com"},
      {"pkg@1.2.3", "pkg@1.2.3"},
  });
}

TEST(Pii, Phones) {
  check_table({
      {"call +44 20 7946 0958 now", "call <PHONE> now"},
      {"+14155552671", "<PHONE>"},
      {"+1 (555) 123-4567", "<PHONE>"},
      {"(555) 123-4567", "<PHONE>"},
      {"(555)123-4567.", "<PHONE>."},
      {"tel. 555-123-4567, fax 555.123.4568", "tel. <PHONE>, fax <PHONE>"},
      {"020 7946 0958", "<PHONE>"},
      {"+33 6 12 34 56 78", "<PHONE>"},
      {"06 12 34 56 78", "<PHONE>"},
      {"dial 555-1234.", "dial <PHONE>."},
      // Not phones: plain numbers, dates, times, years, thousands, ISBNs, versions, prices,
      // percentages, mixed separators and too many digits.
      {"5551234567", "5551234567"},
      {"on 2024-01-15 and 15/01/2024 or 15.01.2024", "on 2024-01-15 and 15/01/2024 or 15.01.2024"},
      {"at 10:30:00 or 12:30", "at 10:30:00 or 12:30"},
      {"1939-1945", "1939-1945"},
      {"1 234 567 and 12.345.678", "1 234 567 and 12.345.678"},
      {"ISBN 978-3-16-148410-0", "ISBN 978-3-16-148410-0"},
      {"v2.0.1 and 1.2.3", "v2.0.1 and 1.2.3"},
      {"$1,234.56 or 1 299,00 EUR", "$1,234.56 or 1 299,00 EUR"},
      {"+12.5% and +100", "+12.5% and +100"},
      {"2024-01-15 1030", "2024-01-15 1030"},
      {"+1234567890123456", "+1234567890123456"},
      {"pages 12-34", "pages 12-34"},
      {"draws 10 20 30 40 50 and 555 123 456", "draws 10 20 30 40 50 and 555 123 456"},
      {"000 000 0000 and 0000 0000 0000", "000 000 0000 and 0000 0000 0000"},
      {"555 123 4567 and +44 20 7946 0958 10.0.0.1", "<PHONE> and <PHONE> <IP>"},
  });
}

TEST(Pii, Ipv4) {
  check_table({
      {"host 192.168.1.10 is up", "host <IP> is up"},
      {"http://10.0.0.1:8080/x", "http://<IP>:8080/x"},
      {"(0.0.0.0)", "(<IP>)"},
      {"255.255.255.255.", "<IP>."},
      // Not addresses: a number over 255, three or five parts, a version, a decimal.
      {"256.1.1.1", "256.1.1.1"},
      {"1.2.3", "1.2.3"},
      {"1.2.3.4.5", "1.2.3.4.5"},
      {"v1.2.3.4", "v1.2.3.4"},
      {"revision 1.17.2.7, Section 2.4.3.5, version  10.0.0.1", "revision 1.17.2.7, Section 2.4.3.5, version  10.0.0.1"},
      {"3.14159", "3.14159"},
  });
}

TEST(Pii, Ipv6) {
  check_table({
      {"addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok", "addr <IP> ok"},
      {"2001:db8::1", "<IP>"},
      {"loopback ::1.", "loopback <IP>."},
      {"fe80::", "<IP>"},
      {"::ffff:192.0.2.128", "<IP>"},
      {"[fe80::1%eth0]", "[<IP>%eth0]"},
      {"fe80::1: down", "<IP>: down"},
      // Not addresses: C++ scopes, words, times, MAC addresses, two '::', a five-digit group,
      // and nine groups.
      {"std::vector and a::b", "std::vector and a::b"},
      {"cafe::face", "cafe::face"},
      {"10:30:00", "10:30:00"},
      {"00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5e"},
      {"1::2::3", "1::2::3"},
      {"12345::1", "12345::1"},
      {"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"},
  });
}

TEST(Pii, Cards) {
  check_table({
      {"card 4111 1111 1111 1111 exp", "card <CARD> exp"},
      {"4111-1111-1111-1111", "<CARD>"},
      {"5555555555554444", "<CARD>"},
      {"amex 378282246310005.", "amex <CARD>."},
      {"4222222222222", "<CARD>"},                  // 13 digits
      {"4000 0000 0000 0000 006", "<CARD>"},        // 19 digits
      // Not cards: the Luhn check fails, all one digit, too few or too many digits, mixed
      // separators, an ISBN-13 that fails Luhn.
      {"4111 1111 1111 1112", "4111 1111 1111 1112"},
      {"0000 0000 0000 0000", "0000 0000 0000 0000"},
      {"411111111111", "411111111111"},
      {"41111111111111111111", "41111111111111111111"},
      {"4111 1111-1111 1111", "4111 1111-1111 1111"},
      {"9780306406157", "9780306406157"},
  });
}

TEST(Pii, OrdinaryTextIsUnchanged) {
  const std::string text =
      "On 2024-01-15 at 09:45 the build 3.2.1 (commit 4f2a9c1) cost $19.99; 42 of 1,000 runs passed.\n"
      "Q: What's 2+2? A: 4. Call me at noon. Score 3:1, ratio 16:9, chapter 3.14, room 101-B.\n";
  PiiCounts counts;
  EXPECT_EQ(mask_pii(text, counts), text);
  EXPECT_EQ(counts.total(), 0u);
}

TEST(Pii, CountsPerKind) {
  const std::string text =
      "a@example.com b@example.org +44 20 7946 0958 10.0.0.1 ::1 2001:db8::2 4111111111111111 555-123-4567";
  PiiCounts counts;
  const std::string masked = mask_pii(text, counts);
  EXPECT_EQ(masked, "<EMAIL> <EMAIL> <PHONE> <IP> <IP> <IP> <CARD> <PHONE>");
  EXPECT_EQ(counts[PiiKind::Email], 2u);
  EXPECT_EQ(counts[PiiKind::Phone], 2u);
  EXPECT_EQ(counts[PiiKind::Ipv4], 1u);
  EXPECT_EQ(counts[PiiKind::Ipv6], 2u);
  EXPECT_EQ(counts[PiiKind::Card], 1u);
  EXPECT_EQ(counts.total(), occurrences(masked, "<"));
  PiiCounts sum;
  sum += counts;
  sum += counts;
  EXPECT_EQ(sum[PiiKind::Ipv6], 4u);
  EXPECT_EQ(pii_name(PiiKind::Ipv6), "ipv6");
}

// Long runs that almost match at every position (local-part characters without '@', digits
// without an end, hex groups and colons) take time linear in their length: 8x the text costs
// under 16x (a scanner whose look-ahead is not bounded took 40x, 39 s, here).
TEST(Pii, TimeIsLinearOnNearMisses) {
  auto seconds = [](const std::string& text) {
    PiiCounts counts;
    const auto start = std::chrono::steady_clock::now();
    const std::string out = mask_pii(text, counts);
    EXPECT_EQ(out.size(), text.size());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto runs = [](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += "a.b-c+d_e%f 1-2-3-4-5-6 1:2:3:4:5:6:7 ";
    return s + std::string(n * 8, '9') + std::string(n * 8, 'x') + "@";
  };
  // The least of three runs each, and a slack of 0.25 s for a loaded machine: a scanner that
  // restarts its look-ahead at every byte spends seconds on the large text's 128000-byte runs.
  auto least = [&](size_t n) {
    const std::string text = runs(n);
    return std::min({seconds(text), seconds(text), seconds(text)});
  };
  const double small = least(2000), large = least(16000);
  std::printf("near misses: %.4f s for 1x, %.4f s for 8x\n", small, large);
  EXPECT_LT(large, small * 8 * 2 + 0.25) << "small " << small << " s, large " << large << " s";
}
