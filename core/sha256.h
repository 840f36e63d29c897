#pragma once
// SHA-256 digests (hex) of byte ranges and files, incrementally or at once.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tessera {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::string hex_digest();  // 64 lowercase hex characters; ends the computation

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view bytes);
std::string sha256_file(const std::string& path);  // throws tessera::Error naming the file

}  // namespace tessera
