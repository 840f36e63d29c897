#pragma once
// SHA-256 digests (hex) of byte ranges and files, incrementally or at once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
// `length` bytes of the file from `offset`, read with pread (no shared file position: processes and
// threads can hash parts of one file at once); throws tessera::Error naming the file and the range
// when they cannot all be read.
std::string sha256_file_range(const std::string& path, uint64_t offset, uint64_t length);

struct ByteRange {
  uint64_t offset = 0, length = 0;
};
// The digests of several ranges of one file, in order, hashed by this process's OpenMP threads at
// once (largest first); throws the first range's error.
std::vector<std::string> sha256_file_ranges(const std::string& path, const std::vector<ByteRange>& ranges);

}  // namespace tessera
