#include "datasets/doc_split.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"

namespace tessera::datasets {

namespace {

// 16 hex digits -> the number they spell.
uint64_t hex_u64(std::string_view hex) {
  TESSERA_CHECK(hex.size() >= 16, "content hash '{}' is too short", hex);
  uint64_t v = 0;
  for (char c : hex.substr(0, 16)) {
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    TESSERA_CHECK(d >= 0, "content hash '{}' is not lowercase hex", hex);
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

void check_val_fraction(double fraction) {
  TESSERA_CHECK(std::isfinite(fraction) && fraction >= 0.0 && fraction < 1.0,
                "--val-fraction must be in [0, 1), got {}", fraction);
}

bool is_val_document(std::string_view content_sha256, uint64_t seed, double val_fraction) {
  if (val_fraction <= 0.0) return false;
  const uint64_t h = hex_u64(sha256_hex(fmt::format("{}:{}", seed, content_sha256)));
  // The top 53 bits as a double in [0, 1): exact, so the comparison is the same on every machine.
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  return u < val_fraction;
}

bool Deduplicator::first_occurrence(std::string_view content_sha256) {
  TESSERA_CHECK(content_sha256.size() >= 32, "content hash '{}' is too short", content_sha256);
  return seen_.insert(Key{hex_u64(content_sha256), hex_u64(content_sha256.substr(16))}).second;
}

}  // namespace tessera::datasets
