#pragma once
// API keys: a file of keys, one a line (blank lines and lines starting with # are skipped). A
// request carries one as `Authorization: Bearer KEY`; keys are compared in constant time (no
// early exit on the first differing byte) and never logged.
#include <string>
#include <vector>

namespace tessera::server {

class ApiKeys {
 public:
  ApiKeys() = default;  // no keys: every request passes
  // Throws tessera::Error naming the file when it can not be read or holds no key.
  static ApiKeys load(const std::string& path);
  bool enabled() const { return !keys_.empty(); }
  // The Authorization header's value: "Bearer KEY" with a known KEY.
  bool accepts(const std::string& authorization) const;

 private:
  std::vector<std::string> keys_;
};

// "sha256:" and the first 16 hex digits of the key's SHA-256: names a key in logs, never the key.
std::string key_fingerprint(const std::string& authorization);

// a == b without an early exit (the time depends on the lengths only).
bool equal_in_constant_time(const std::string& a, const std::string& b);

}  // namespace tessera::server
