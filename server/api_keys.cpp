#include "server/api_keys.h"

#include <fstream>

#include "core/error.h"
#include "core/sha256.h"

namespace tessera::server {

bool equal_in_constant_time(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

ApiKeys ApiKeys::load(const std::string& path) {
  std::ifstream in(path);
  TESSERA_CHECK(in.good(), "cannot read the key file '{}'", path);
  ApiKeys k;
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const auto e = line.find_last_not_of(" \t\r");
    k.keys_.push_back(line.substr(b, e - b + 1));
  }
  TESSERA_CHECK(!k.keys_.empty(), "the key file '{}' holds no key", path);
  return k;
}

namespace {
const std::string kBearer = "Bearer ";
}

std::string key_fingerprint(const std::string& authorization) {
  if (authorization.compare(0, kBearer.size(), kBearer) != 0) return "none";
  return "sha256:" + sha256_hex(authorization.substr(kBearer.size())).substr(0, 16);
}

bool ApiKeys::accepts(const std::string& authorization) const {
  if (authorization.compare(0, kBearer.size(), kBearer) != 0) return false;
  const std::string given = authorization.substr(kBearer.size());
  bool ok = false;
  for (const auto& key : keys_) ok |= equal_in_constant_time(given, key);  // every key, no early exit
  return ok;
}

}  // namespace tessera::server
